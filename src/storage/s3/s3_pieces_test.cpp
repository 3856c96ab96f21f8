#include "storage/s3/s3_pieces.hpp"

#include <gtest/gtest.h>

namespace obkeep::storage {

namespace {

constexpr uint64_t mib = 1024 * 1024;

// The pieces cover [0, size) in order, without gaps or overlaps.
void expect_cover(const std::vector<Piece>& pieces, uint64_t size) {
  uint64_t offset = 0;
  for (const Piece& piece : pieces) {
    EXPECT_EQ(piece.offset, offset);
    offset += piece.length;
  }
  EXPECT_EQ(offset, size);
}

}  // namespace

TEST(S3Pieces, APackIsThreePartsOfAtLeastFiveMiB) {
  uint64_t pack = 16 * mib + 123457;
  std::vector<Piece> parts = split_into_pieces(pack, 5 * mib, 10000);
  ASSERT_EQ(parts.size(), 3u);
  expect_cover(parts, pack);
  for (const Piece& part : parts) EXPECT_GE(part.length, 5 * mib);
  EXPECT_LE(parts.front().length - parts.back().length, 1u);
}

TEST(S3Pieces, ExactMultiplesAndSmallSizes) {
  std::vector<Piece> ranges = split_into_pieces(16 * mib, 4 * mib, 10000);
  ASSERT_EQ(ranges.size(), 4u);
  for (const Piece& range : ranges) EXPECT_EQ(range.length, 4 * mib);
  expect_cover(ranges, 16 * mib);
  // Below twice the minimum: one piece, even below the minimum itself.
  for (uint64_t size : {uint64_t(0), uint64_t(1), 5 * mib, 10 * mib - 1}) {
    std::vector<Piece> one = split_into_pieces(size, 5 * mib, 10000);
    ASSERT_EQ(one.size(), 1u) << size;
    expect_cover(one, size);
  }
  ASSERT_EQ(split_into_pieces(10 * mib, 5 * mib, 10000).size(), 2u);
}

TEST(S3Pieces, AtMostMaxCountPieces) {
  std::vector<Piece> parts = split_into_pieces(100 * mib + 7, mib, 8);
  ASSERT_EQ(parts.size(), 8u);
  expect_cover(parts, 100 * mib + 7);
  EXPECT_EQ(split_into_pieces(100, 0, 10).size(), 1u);
  EXPECT_EQ(split_into_pieces(100, 10, 0).size(), 1u);
}

}  // namespace obkeep::storage
