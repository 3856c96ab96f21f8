#include "chunker/chunker.hpp"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>

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

// Rows that share a constant template (a JSON body's fixed keys, a UUID's node part), as
// dump streams and logs do: a 64-byte window of the template whose hash meets the mask
// recurs in every row. A cut there would follow the previous cut by the minimum size plus
// a row, so an edit that moves the rows by part of a row would move every later cut (rows of
// one length never bring the chain back), and nothing after it would deduplicate. Whatever
// the seed, such an edit near the start keeps the later chunks.
TEST(Chunker, ARecurringWindowDoesNotChainTheCutsToTheFirst) {
  ChunkerParams params;
  params.min_size = 1024;
  params.average_size = 4096;
  params.max_size = 16384;
  std::string constant;
  for (int i = 0; constant.size() < 600; ++i) constant += "\"Permissions\": [\"ReadAccountsDetail" + std::to_string(i) + "\"], ";
  std::mt19937_64 generator(5);
  auto rows = [&](size_t count) {
    std::string text;
    for (size_t i = 0; i < count; ++i) {
      text += constant;
      for (int j = 0; j < 40; ++j) text += "0123456789abcdef"[generator() & 15];
      text += '\n';
    }
    return text;
  };
  std::string body = rows(4000);  // ~2.6 MB
  Bytes data(body.begin(), body.end());
  Bytes edited = data;
  edited.insert(edited.begin() + 5000, 200, 'x');  // a third of a row: every later row moves by it
  int pathological_seeds = 0;
  for (uint8_t seed = 0; seed < 64; ++seed) {
    params.seed[0] = seed;
    Chunker chunker(params);
    auto before = cut_points(chunker, data);
    auto after = cut_points(chunker, edited);
    std::set<size_t> shifted_after;
    for (size_t cut : after) shifted_after.insert(cut >= 5000 ? cut - 200 : cut);
    size_t common = 0;
    for (size_t cut : before) common += shifted_after.count(cut);
    EXPECT_GE(common + 4, before.size()) << "seed " << int(seed) << ": " << common << " of " << before.size();
    pathological_seeds += before.size() > data.size() / 1500;  // cut at nearly every minimum: a recurring window
  }
  EXPECT_EQ(pathological_seeds, 0);
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

// Cut points are part of the format: a chunker that cut elsewhere would store every file
// again after an upgrade. These were computed by the byte-at-a-time loop before it was
// unrolled; any faster loop must find the same.
TEST(Chunker, CutPointsAreTheKnownOnes) {
  ChunkerParams params;
  for (size_t i = 0; i < params.seed.size(); ++i) params.seed[i] = static_cast<uint8_t>(i);
  Bytes data = random_data(16 << 20, 7);
  EXPECT_EQ(cut_points(Chunker(params), data), (std::vector<size_t>{1028678, 2297689, 3531976, 4630455, 5482379, 6926053, 8129262, 8712179, 9809750, 10955795, 12231823, 13768505, 15227005, 16515699, 16777216}));

  // Text of a few distinct bytes, cut by the dump chunker (whose recurring windows are skipped).
  for (auto& b : data) b = static_cast<uint8_t>("\t\n 0123456789abcdef"[b % 18]);
  auto cuts = cut_points(Chunker(dump_chunker_params(params)), data);
  cuts.resize(16);
  EXPECT_EQ(cuts, (std::vector<size_t>{271494, 587886, 865600, 1223262, 1522993, 1805192, 1894295, 2253070, 2600646, 2894049, 3204404, 3553168, 3813265, 4077183, 4349636, 4650925}));
}

}  // namespace obkeep
