// The binlog archive's chain: which pieces a replay needs, where it breaks, and how far a
// backup can be rolled forward.
#include "ops/binlog_archive.hpp"

#include <gtest/gtest.h>

#include "util/error.hpp"
#include "util/host.hpp"

namespace obkeep::ops {

namespace {

constexpr int64_t second = 1000000000;

repo::Snapshot piece(int n, const std::string& file, uint64_t start, uint64_t end, int64_t point_s,
                     const std::string& next_file = "", const std::string& gap = "") {
  BinlogPiece p;
  p.file = file;
  p.start = start;
  p.end = end;
  p.next_file = next_file;
  p.gap = gap;
  p.recovery_point_ns = point_s * second;
  p.database_name = "WSO2AM_DB";
  repo::Snapshot snapshot;
  snapshot.id = Id::from_hex(std::string(62, '0') + (n < 10 ? "0" : "") + std::to_string(n));
  snapshot.time_ns = point_s * second + 1;
  snapshot.tags = binlog_tags("mysql://db/am", file);
  snapshot.summary = binlog_piece_summary(p);
  return snapshot;
}

// binlog.000001 from its start to a rotation, binlog.000002 in two pieces.
std::vector<repo::Snapshot> joined() {
  return {piece(1, "binlog.000001", 0, 500, 100), piece(2, "binlog.000001", 500, 900, 105, "binlog.000002"),
          piece(3, "binlog.000002", 0, 300, 110), piece(4, "binlog.000002", 300, 800, 115)};
}

}  // namespace

TEST(BinlogArchive, AReplayTakesItsFileFromTheStartAndStopsAtTheFirstPieceReachingTheTime) {
  BinlogArchive archive(joined(), "mysql://db/am");
  auto pieces = archive.pieces_for("binlog.000001", 700, 108 * second, "WSO2AM_DB");
  ASSERT_EQ(pieces.size(), 3u);  // 1 and 2 (the file from its start), then 3 reaches 108
  EXPECT_EQ(pieces.front().start, 0u);
  EXPECT_EQ(pieces.back().file, "binlog.000002");
  EXPECT_EQ(archive.resume_file(), "binlog.000002");
  EXPECT_EQ(archive.resume_position(), 800u);
  EXPECT_TRUE(archive.gaps().empty());
  EXPECT_EQ(archive.reachable_from("binlog.000001", 700), 115 * second);
}

TEST(BinlogArchive, ATimePastTheArchiveIsRefusedWithTheNewestReachableTime) {
  BinlogArchive archive(joined(), "mysql://db/am");
  try {
    archive.pieces_for("binlog.000001", 700, 200 * second, "WSO2AM_DB");
    FAIL() << "a time past the archive was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("reaches only " + format_rfc3339(115 * second)), std::string::npos) << e.what();
  }
}

TEST(BinlogArchive, AReplayToAGtidGoesThroughThePieceWhereALaterTransactionBegins) {
  auto snapshots = joined();
  auto with_gtids = [&](size_t i, const std::string& gtids) {
    snapshots[i].summary["binlog"]["gtids"] = gtids;
  };
  with_gtids(0, "0-1-10");
  with_gtids(1, "0-1-12,1-1-3");
  with_gtids(3, "0-1-20");  // piece 3 holds no transaction's beginning
  BinlogArchive archive(snapshots, "mysql://db/am");
  EXPECT_EQ(archive.pieces()[1].gtids.at(1).sequence, 3u);
  auto through = [&](const std::string& gtid) {
    return archive.pieces_for("binlog.000001", 700, BinlogTarget{0, db::parse_gtid(gtid)}, "WSO2AM_DB");
  };
  // 0-1-11 begins in piece 2; 0-1-12 too, but its commit may lie further: up to where 0-1-13+ begins.
  EXPECT_EQ(through("0-1-11").size(), 2u);
  EXPECT_EQ(through("0-1-12").size(), 4u);
  EXPECT_EQ(through("0-1-19").size(), 4u);
  // The newest archived transaction: everything reachable.
  EXPECT_EQ(through("0-1-20").size(), 4u);
  try {
    through("0-1-21");
    FAIL() << "a GTID past the archive was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("reaches only GTID 0-1-20, before the GTID asked for"), std::string::npos) << e.what();
  }
  EXPECT_THROW(through("5-1-1"), Error);  // a domain the archive never saw
}

TEST(BinlogArchive, AGapStopsAReplayAndIsReported) {
  auto snapshots = joined();
  snapshots.push_back(piece(5, "binlog.000004", 0, 200, 130, "", "binlog binlog.000002 was purged"));
  BinlogArchive archive(snapshots, "mysql://db/am");
  ASSERT_EQ(archive.gaps().size(), 1u);
  EXPECT_EQ(archive.gaps()[0].after, "binlog.000002:800");
  EXPECT_EQ(archive.gaps()[0].before, "binlog.000004:0");
  EXPECT_EQ(archive.reachable_from("binlog.000001", 700), 115 * second);  // not past the gap
  EXPECT_THROW(archive.pieces_for("binlog.000002", 300, 125 * second, "WSO2AM_DB"), Error);
  auto warnings = binlog_gap_warnings(snapshots);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("binlog archive of WSO2AM_DB has a gap after binlog.000002:800"), std::string::npos) << warnings[0];
}

TEST(BinlogArchive, APositionNeverArchivedOrAFileWithoutItsStartIsRefused) {
  BinlogArchive archive({piece(1, "binlog.000007", 400, 900, 100)}, "mysql://db/am");
  EXPECT_THROW(archive.pieces_for("binlog.000003", 4, 100 * second, "WSO2AM_DB"), Error);
  EXPECT_THROW(archive.pieces_for("binlog.000007", 500, 100 * second, "WSO2AM_DB"), Error);  // no format description
}

TEST(BinlogArchive, ABackupIsRolledForwardOnlyFromItsOwnPosition) {
  auto snapshots = joined();
  repo::Snapshot backup;
  backup.time_ns = 102 * second;
  backup.summary = {{"binlog", {{"file", "binlog.000001"}, {"position", 600}}}};
  EXPECT_EQ(newest_recovery_point(backup, snapshots, "mysql://db/am"), 115 * second);
  backup.summary = nlohmann::json::object();  // no position recorded: the backup's own time
  EXPECT_EQ(newest_recovery_point(backup, snapshots, "mysql://db/am"), 102 * second);
  EXPECT_EQ(newest_recovery_point(backup, snapshots, "mysql://other/db"), 102 * second);
}

TEST(BinlogArchive, RetentionKeepsTheWindowsBaseAndForgetsPiecesBeforeTheOldestKeptFile) {
  auto snapshots = joined();
  auto backup = [](int n, int64_t time_s, const std::string& file, uint64_t position) {
    repo::Snapshot snapshot;
    snapshot.id = Id::from_hex(std::string(62, 'a') + std::to_string(n) + "0");
    snapshot.time_ns = time_s * second;
    snapshot.tags = {"set=databases", "database=mysql://db/am"};
    snapshot.summary = {{"binlog", {{"file", file}, {"position", position}}}};
    return snapshot;
  };
  snapshots.push_back(backup(1, 101, "binlog.000001", 600));
  snapshots.push_back(backup(2, 111, "binlog.000002", 400));
  // The window starts at 108: the backup of 101 is its base; the one of 111 is not.
  auto protect = backups_for_window(snapshots, 108 * second);
  ASSERT_EQ(protect.size(), 1u);
  EXPECT_EQ(protect[0], snapshots[4].id);
  // A window longer than the history: the oldest backup is where the most of it is reachable.
  protect = backups_for_window(snapshots, 90 * second);
  ASSERT_EQ(protect.size(), 1u);
  EXPECT_EQ(protect[0], snapshots[4].id);
  protect = backups_for_window({snapshots[5], snapshots[4]}, 90 * second);
  ASSERT_EQ(protect.size(), 1u);
  EXPECT_EQ(protect[0], snapshots[4].id);
  // Only the backup of 111 kept: the pieces of binlog.000001 go, if saved before the window.
  std::vector<repo::Snapshot> kept = {snapshots[0], snapshots[1], snapshots[2], snapshots[3], snapshots[5]};
  auto forget = binlog_pieces_to_forget(kept, 108 * second);
  ASSERT_EQ(forget.size(), 2u);
  EXPECT_EQ(forget[0].snapshot, snapshots[0].id);
  EXPECT_EQ(forget[1].snapshot, snapshots[1].id);
  EXPECT_TRUE(binlog_pieces_to_forget(kept, 103 * second).size() == 1u);  // the piece of 105 is inside the window
  kept.pop_back();  // no backup with a position kept: nothing is known to be unneeded
  EXPECT_TRUE(binlog_pieces_to_forget(kept, 108 * second).empty());
}

}  // namespace obkeep::ops
