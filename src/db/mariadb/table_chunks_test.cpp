#include "db/mariadb/table_chunks.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <limits>

namespace obkeep::db {
namespace {

std::vector<std::string> cuts(const std::vector<KeyRange>& ranges) {
  std::vector<std::string> out;
  for (size_t i = 0; i < ranges.size(); ++i) {
    // Each range starts where the previous one ended: together they cover every key once.
    if (i == 0) {
      EXPECT_FALSE(ranges[i].lower);
    } else {
      EXPECT_EQ(ranges[i].lower, ranges[i - 1].upper);
    }
    if (i + 1 == ranges.size()) {
      EXPECT_FALSE(ranges[i].upper);
    } else {
      out.push_back(*ranges[i].upper);
    }
  }
  return out;
}

TEST(TableChunks, IntegerKeysSplitAtMultiplesOfAPowerOfTwo) {
  EXPECT_EQ(cuts(split_integer_keys(1, 1000, 4)), (std::vector<std::string>{"255", "511", "767"}));
  // Growing the table keeps the cuts where they were.
  EXPECT_EQ(cuts(split_integer_keys(1, 1020, 4)), (std::vector<std::string>{"255", "511", "767"}));
  EXPECT_EQ(cuts(split_integer_keys(-10, 10, 2)), (std::vector<std::string>{"-1"}));
  EXPECT_EQ(cuts(split_integer_keys(-100, -3, 3)), (std::vector<std::string>{"-65"}));
}

TEST(TableChunks, SmallOrSingleKeyTablesAreOneRange) {
  EXPECT_EQ(split_integer_keys(1, 1000, 1).size(), 1u);
  EXPECT_EQ(split_integer_keys(5, 5, 8).size(), 1u);
  EXPECT_EQ(range_condition("`ID`", split_integer_keys(5, 5, 8)[0]), "");
}

TEST(TableChunks, TheWholeInt64RangeDoesNotOverflow) {
  auto ranges = split_integer_keys(std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), 4);
  EXPECT_EQ(cuts(ranges), (std::vector<std::string>{"-4611686018427387905", "-1", "4611686018427387903"}));
}

TEST(TableChunks, RangesBetweenSampledKeys) {
  auto ranges = ranges_between({"'b'", "'m'"});
  ASSERT_EQ(ranges.size(), 3u);
  EXPECT_EQ(range_condition("`ID`", ranges[0]), " WHERE `ID` <= 'b'");
  EXPECT_EQ(range_condition("`ID`", ranges[1]), " WHERE `ID` > 'b' AND `ID` <= 'm'");
  EXPECT_EQ(range_condition("`ID`", ranges[2]), " WHERE `ID` > 'm'");
  EXPECT_EQ(ranges_between({}).size(), 1u);
}

TEST(TableChunks, KeyKinds) {
  EXPECT_EQ(key_kind("bigint"), KeyKind::integer);
  EXPECT_EQ(key_kind("varchar"), KeyKind::text);
  EXPECT_EQ(key_kind("varbinary"), KeyKind::binary);
  EXPECT_EQ(key_kind("datetime"), KeyKind::temporal);  // never cut at hex prefixes
  EXPECT_EQ(key_kind("enum"), KeyKind::unsplittable);  // sorts by index, compares as text
  EXPECT_EQ(key_kind("double"), KeyKind::unsplittable);
}

TEST(TableChunks, HexLiterals) { EXPECT_EQ(hex_literal(std::string("\x00\xff'a", 4)), "X'00FF2761'"); }

TEST(TableChunks, WholeTablesAreCutOnlyWhenOneWouldBoundTheRun) {
  // bench/db.sh's database: 87, 67, 16, 15, 12 MB → 99 against 98.5: balanced as it is.
  EXPECT_FALSE(whole_tables_unbalanced({16, 87, 12, 67, 15}, 2));
  // One table of most of the bytes: the other worker would wait.
  EXPECT_TRUE(whole_tables_unbalanced({900, 50, 50}, 2));
  EXPECT_TRUE(whole_tables_unbalanced({100}, 2));
  // Three equal tables on two workers: 2 against 1.5.
  EXPECT_TRUE(whole_tables_unbalanced({10, 10, 10}, 2));
  EXPECT_FALSE(whole_tables_unbalanced({10, 10, 10}, 3));
  EXPECT_FALSE(whole_tables_unbalanced({900, 50}, 1));  // one worker: nothing to balance
  EXPECT_FALSE(whole_tables_unbalanced({}, 2));
}

TEST(TableChunks, RowsPerChunk) {
  unsetenv("OBKEEP_MARIADB_CHUNK_ROWS");
  EXPECT_EQ(rows_per_chunk(330), (16u << 20) / 330);
  EXPECT_EQ(rows_per_chunk(0), (16u << 20) / 100);
  EXPECT_FALSE(key_ranges_forced());
  setenv("OBKEEP_MARIADB_CHUNK_ROWS", "500", 1);
  EXPECT_EQ(rows_per_chunk(330), 500u);
  EXPECT_TRUE(key_ranges_forced());
  unsetenv("OBKEEP_MARIADB_CHUNK_ROWS");
}

}  // namespace
}  // namespace obkeep::db
