#include "chunker/chunker.hpp"

#include <gtest/gtest.h>

#include <random>
#include <set>

namespace obkeep {

namespace {

Bytes random_data(size_t size, uint32_t seed) {
  std::mt19937_64 generator(seed);
  Bytes data(size);
  for (auto& b : data) b = static_cast<uint8_t>(generator());
  return data;
}

std::vector<size_t> cut_points(const Chunker& chunker, const Bytes& data) {
  std::vector<size_t> cuts;
  size_t offset = 0;
  while (offset < data.size()) {
    offset += chunker.next_chunk_length(data.data() + offset, data.size() - offset);
    cuts.push_back(offset);
  }
  return cuts;
}

}  // namespace

TEST(Chunker, BoundsAndAverage) {
  ChunkerParams params;
  Chunker chunker(params);
  Bytes data = random_data(64 << 20, 1);
  auto cuts = cut_points(chunker, data);
  size_t previous = 0;
  for (size_t i = 0; i < cuts.size(); ++i) {
    size_t length = cuts[i] - previous;
    if (i + 1 < cuts.size()) {
      EXPECT_GT(length, params.min_size);
      EXPECT_LE(length, params.max_size);
    }
    previous = cuts[i];
  }
  double average = double(data.size()) / cuts.size();
  EXPECT_GT(average, 0.8 * params.average_size);
  EXPECT_LT(average, 1.6 * params.average_size);
}

TEST(Chunker, InsertInTheMiddleChangesOnlyNearbyChunks) {
  Chunker chunker(ChunkerParams{});
  Bytes data = random_data(32 << 20, 2);
  Bytes edited = data;
  edited.insert(edited.begin() + (16 << 20), {1, 2, 3, 4, 5, 6, 7});
  auto before = cut_points(chunker, data);
  auto after = cut_points(chunker, edited);
  std::set<size_t> shifted_after;
  for (size_t cut : after) shifted_after.insert(cut >= (16 << 20) ? cut - 7 : cut);
  size_t common = 0;
  for (size_t cut : before) common += shifted_after.count(cut);
  EXPECT_GE(common + 3, before.size());  // at most the chunk holding the edit (and its neighbour) differ
}

TEST(Chunker, SeedChangesCutPoints) {
  ChunkerParams a, b;
  b.seed[0] = 1;
  Bytes data = random_data(16 << 20, 3);
  EXPECT_NE(cut_points(Chunker(a), data), cut_points(Chunker(b), data));
}

TEST(Chunker, SmallInputIsOneChunk) {
  Chunker chunker(ChunkerParams{});
  Bytes data = random_data(1000, 4);
  EXPECT_EQ(chunker.next_chunk_length(data.data(), data.size()), 1000u);
}

}  // namespace obkeep
