// WAL retention against base backups, and holes in the WAL archive.
#include "ops/wal_retention.hpp"

#include <algorithm>

#include <gtest/gtest.h>

#include "db/postgres/wal_file.hpp"

namespace obkeep::ops {

namespace {

constexpr uint64_t mib16 = db::default_wal_segment_bytes;

repo::Snapshot base(int n, const std::string& start_file, const std::string& stanza = "") {
  repo::Snapshot snapshot;
  std::string number = std::to_string(n);
  snapshot.id = Id::from_hex(std::string(64 - number.size(), '0') + number);
  snapshot.time_ns = n;
  snapshot.tags = {"set=databases", "database=postgresql://db/ob", "engine=postgresql-base"};
  if (!stanza.empty()) snapshot.tags.push_back("stanza=" + stanza);
  if (!start_file.empty()) snapshot.summary["wal"] = {{"start_file", start_file}, {"segment_bytes", mib16}};
  return snapshot;
}

repo::ArchiveEntry wal(const std::string& file, const std::string& stanza = "main") {
  repo::ArchiveEntry entry;
  entry.key = {"wal", stanza, file};
  return entry;
}

std::vector<std::string> files(const std::vector<repo::ArchiveEntry>& entries) {
  std::vector<std::string> out;
  for (const auto& entry : entries) out.push_back(entry.key.stanza + ":" + entry.key.file);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<repo::ArchiveEntry> archive() {
  return {wal("00000001.history"),  // not a real timeline-1 file, but history files always stay
          wal("000000010000000000000001"), wal("000000010000000000000002"),
          wal("000000010000000000000003.00000028.backup"), wal("000000010000000000000003"),
          wal("000000010000000000000004.partial"), wal("00000002.history"), wal("000000020000000000000004"),
          wal("000000020000000000000005"), wal("000000010000000000000001", "other")};
}

}  // namespace

TEST(WalRetention, ForgetsWhatPrecedesTheOldestKeptBase) {
  std::vector<repo::Snapshot> kept = {base(1, "000000010000000000000003"), base(2, "000000020000000000000005")};
  EXPECT_EQ(files(wal_entries_to_forget(archive(), kept)),
            (std::vector<std::string>{"main:000000010000000000000001", "main:000000010000000000000002"}));
}

TEST(WalRetention, KeepsAllWhenNothingSaysWhereReplayStarts) {
  EXPECT_TRUE(wal_entries_to_forget(archive(), {}).empty());
  // One kept base of an older obkeep, which does not record its start: its needs are unknown.
  std::vector<repo::Snapshot> kept = {base(1, ""), base(2, "000000020000000000000005")};
  EXPECT_TRUE(wal_entries_to_forget(archive(), kept).empty());
  // A base of another stanza does not decide for this one.
  EXPECT_EQ(files(wal_entries_to_forget(archive(), {base(3, "000000010000000000000004", "other")})),
            (std::vector<std::string>{"other:000000010000000000000001"}));
}

TEST(WalRetention, NoGapInAContinuousArchive) {
  EXPECT_TRUE(wal_gap_warnings(archive(), {base(1, "000000010000000000000001")}).empty());
}

TEST(WalRetention, NamesTheHole) {
  std::vector<repo::ArchiveEntry> entries = {wal("000000010000000000000002"), wal("0000000100000000000000FE"),
                                             wal("000000010000000100000001")};
  std::vector<std::string> warnings = wal_gap_warnings(entries, {base(1, "000000010000000000000002")});
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_NE(warnings[0].find("lacks 000000010000000000000003 to 0000000100000000000000FD"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("cannot pass 000000010000000000000002"), std::string::npos) << warnings[0];
  // Segment numbers carry across the halves of the name: FF, then 1/00 are missing.
  EXPECT_NE(warnings[1].find("lacks 0000000100000000000000FF to 000000010000000100000000"), std::string::npos) << warnings[1];
  // The base's own start missing: the archive cannot even begin the replay.
  warnings = wal_gap_warnings({wal("000000010000000000000005")}, {base(1, "000000010000000000000003")});
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("lacks 000000010000000000000003 to 000000010000000000000004"), std::string::npos) << warnings[0];
}

}  // namespace obkeep::ops
