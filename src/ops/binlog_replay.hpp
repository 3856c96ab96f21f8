// Point-in-time recovery of a MariaDB/MySQL database: after a logical backup is restored,
// the archived binary log from that backup's position is replayed up to a time
// (mariadb-binlog | mariadb), for `restore-db --to URL --until TIME`.
#pragma once

#include <cstdint>
#include <string>

#include "db/engine.hpp"
#include "deploy/deployment.hpp"
#include "ops/binlog_archive.hpp"
#include "repo/repository.hpp"
#include "repo/snapshot.hpp"

namespace obkeep::ops {

// The binlog file and position a logical backup was taken at, from its manifest; throws
// Error naming the snapshot when it has none (the binary log was off, or no RELOAD grant).
struct BinlogPosition {
  std::string file;
  uint64_t position = 0;
  std::string gtid;  // the same point as a GTID position, when the backup recorded it
};
BinlogPosition backup_binlog_position(repo::Repository& repository, const repo::Snapshot& backup);

// A replay, decided before anything is written: from the backup's position, the archived
// pieces, up to the target.
struct BinlogReplayPlan {
  BinlogPosition start;
  std::vector<BinlogPiece> pieces;
  BinlogTarget until;
};

// Throws Error naming what is missing (no position or GTID in the backup, a gap, an archive
// that ends before `until`), so that a restore can refuse before it writes anything.
// `snapshots`: the repository's (pieces an older obkeep saved as snapshots are among them).
BinlogReplayPlan plan_binlog_replay(repo::Repository& repository, const deploy::Database& database,
                                    const repo::Snapshot& backup, const BinlogTarget& until,
                                    const std::vector<repo::Snapshot>& snapshots);

struct BinlogReplay {
  size_t pieces = 0;
  uint64_t bytes = 0;        // of binlog read
  std::string from, until;   // "binlog.000002:1234", RFC 3339
};

// Replays the planned pieces of `database`'s archived binlog from the backup's position up
// to the target (by time: every transaction whose binlog time is in that second or before;
// by GTID: that transaction and those before it) into `target`, a database the backup was
// just restored into. Throws Error naming what is missing or what mariadb-binlog or the server said.
BinlogReplay replay_binlog(repo::Repository& repository, const deploy::Database& database, const BinlogReplayPlan& plan,
                           const db::ConnectionInfo& source, const db::ConnectionInfo& target);

}  // namespace obkeep::ops
