#include "db/postgres/wal_file.hpp"

#include <gtest/gtest.h>

namespace obkeep::db {

constexpr uint64_t mib16 = default_wal_segment_bytes;

TEST(WalFile, SegmentNamesRoundTrip) {
  auto file = parse_wal_file("00000002000000A1000000FF", mib16);
  ASSERT_TRUE(file);
  EXPECT_EQ(file->kind, WalFile::Kind::segment);
  EXPECT_EQ(file->timeline, 2u);
  EXPECT_EQ(file->segment, 0xA1u * 256 + 0xFF);
  EXPECT_EQ(wal_segment_name(2, file->segment, mib16), "00000002000000A1000000FF");
  // The next segment carries into the high half.
  EXPECT_EQ(wal_segment_name(2, file->segment + 1, mib16), "00000002000000A200000000");
  // With 64 MiB segments a half holds 64 of them.
  EXPECT_EQ(parse_wal_file("00000001000000030000003F", 64 * 1024 * 1024)->segment, 3u * 64 + 63);
  EXPECT_FALSE(parse_wal_file("000000010000000300000040", 64 * 1024 * 1024));
}

TEST(WalFile, OtherKinds) {
  EXPECT_EQ(parse_wal_file("00000003.history", mib16)->kind, WalFile::Kind::timeline_history);
  EXPECT_EQ(parse_wal_file("00000003.history", mib16)->timeline, 3u);
  auto backup = parse_wal_file("000000010000000000000002.00000028.backup", mib16);
  ASSERT_TRUE(backup);
  EXPECT_EQ(backup->kind, WalFile::Kind::backup_history);
  EXPECT_EQ(backup->segment, 2u);
  EXPECT_EQ(parse_wal_file("000000010000000000000007.partial", mib16)->kind, WalFile::Kind::partial);
}

TEST(WalFile, RejectsWhatIsNoWalFile) {
  for (const char* name : {"", "00000000000000000000000A", "0000000100000000000000", "00000001000000000000000g",
                            "000000010000000000000002.backup", "000000010000000000000002.tmp", "00000001.histor",
                            "000000010000000000000100"})
    EXPECT_FALSE(parse_wal_file(name, mib16)) << name;
}

TEST(WalFile, Lsn) {
  EXPECT_EQ(parse_lsn("0/2000028"), 0x2000028u);
  EXPECT_EQ(parse_lsn("16/b374d848"), 0x16B374D848u);
  EXPECT_EQ(lsn_segment(*parse_lsn("0/2000028"), mib16), 2u);
  for (const char* text : {"", "/1", "1/", "12", "1/2/3", "123456789/0", "x/1"}) EXPECT_FALSE(parse_lsn(text)) << text;
}

}  // namespace obkeep::db
