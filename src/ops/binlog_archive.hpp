// The archived binary log of one MariaDB/MySQL database as a chain of pieces of the
// server's binlog files, with the places where it breaks (docs/database-dumps.md, "Binlog
// archive"). Pieces are archive entries (ops/binlog_entries.hpp, which finds them by name);
// an obkeep before those stored each as a snapshot tagged set=binlog, binlog-database=<id>,
// binlog=<file>, still read here.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "db/mariadb/gtid.hpp"
#include "repo/archive_entry.hpp"
#include "repo/snapshot.hpp"

namespace obkeep::ops {

struct BinlogPiece {
  // Where it is stored: an archive entry — in its epoch (a run of the archive without a
  // gap), the index-th piece of `file` — or, written before entries, a snapshot.
  std::optional<repo::ArchiveEntry> stored;
  uint64_t epoch = 0;
  uint64_t index = 0;
  Id snapshot;
  int64_t saved_ns = 0;     // when it was saved
  std::string file;         // the server's binlog file name ("binlog.000042")
  uint64_t start = 0;       // [start, end) of that file; 0 includes the 4-byte magic
  uint64_t end = 0;
  std::string next_file;    // set when the piece ends with the file's rotation
  int64_t recovery_point_ns = 0;  // every transaction committed up to then is archived
  std::string gap;          // why the archive could not go on from the piece before, or empty
  std::string database_name;  // the datasource name, for messages
  db::GtidPosition gtids;     // per domain, the last transaction that begins in the piece
};

// Where a replay stops: every transaction whose binlog time is in the second of `until_ns`
// or before, or, with `gtid`, that transaction and every one before it in its domain.
struct BinlogGap {
  std::string after;  // "binlog.000003:1234", or empty at the archive's beginning
  std::string before;
  std::string reason;
  int64_t found_ns = 0;
};

struct BinlogTarget {
  int64_t until_ns = 0;
  std::optional<db::Gtid> gtid;
  std::string describe() const;  // "2026-11-25T14:03:00Z" or "GTID 0-1-105"
};

// Whether a replay to `target` needs nothing after `piece`: its recovery point reaches the
// time, or a later transaction of the GTID's domain begins in it.
bool piece_passes(const BinlogPiece& piece, const BinlogTarget& target);

class BinlogArchive {
 public:
  // The pieces of `database_id` among `snapshots` (oldest first).
  BinlogArchive(const std::vector<repo::Snapshot>& snapshots, const std::string& database_id);
  // Pieces in archive order.
  explicit BinlogArchive(std::vector<BinlogPiece> pieces) : pieces_(std::move(pieces)) {}

  const std::vector<BinlogPiece>& pieces() const { return pieces_; }
  bool empty() const { return pieces_.empty(); }
  // Where streaming goes on: the last piece's end, or the start of the file it rotated to.
  std::string resume_file() const;
  uint64_t resume_position() const;  // a file offset; 0: the file's beginning
  std::vector<BinlogGap> gaps() const;

  // The pieces holding the log from (file, position) on, without a break, up to the first
  // piece whose recovery point reaches `until_ns`, starting at the beginning of `file` (a
  // replay reads each file from its format description). Throws Error naming what is
  // missing: the position never archived, a gap, or an archive that ends before `until_ns`
  // (with the newest time it reaches).
  std::vector<BinlogPiece> pieces_for(const std::string& file, uint64_t position, int64_t until_ns,
                                      const std::string& database_name) const;
  // The same, up to a GTID: through the first piece where a later transaction of its domain
  // begins (the target's commit lies before it), or the end of what joins. Error when the
  // archive never reaches the GTID.
  std::vector<BinlogPiece> pieces_for(const std::string& file, uint64_t position, const BinlogTarget& target,
                                      const std::string& database_name) const;

  // The newest recovery point reachable from (file, position) without a gap, if any.
  std::optional<int64_t> reachable_from(const std::string& file, uint64_t position) const;

 private:
  std::vector<BinlogPiece> pieces_;
};

// Whether `next` continues `previous` exactly.
bool binlog_pieces_join(const BinlogPiece& previous, const BinlogPiece& next);

// The summary a piece's snapshot (or entry, as its meta) carries, and back.
nlohmann::json binlog_piece_summary(const BinlogPiece& piece);
std::optional<BinlogPiece> binlog_piece_of(const repo::Snapshot& snapshot);
// The piece an entry's summary describes; IntegrityError naming `what` when it is malformed.
BinlogPiece binlog_piece_from_summary(const nlohmann::json& summary, const std::string& what);

std::vector<std::string> binlog_tags(const std::string& database_id, const std::string& file);

// Retention with a point-in-time window: every point from `window_start_ns` on stays
// recoverable. The backups to protect from keep rules: per database, the newest backup
// with a binlog position (or PostgreSQL base backup with its WAL start) taken at or before
// the window's start; when every one is younger than the window, the oldest.
std::vector<Id> backups_for_window(const std::vector<repo::Snapshot>& snapshots, int64_t window_start_ns);
// The binlog pieces no kept backup and no point of the window needs: per database, those
// before the file that holds the oldest kept backup's position, saved before the window.
// With no kept backup that has a position, none. `archives`: per database id, its pieces
// (by default those among `kept`, snapshots of an older obkeep).
std::vector<BinlogPiece> binlog_pieces_to_forget(const std::vector<repo::Snapshot>& kept, int64_t window_start_ns,
                                                 const std::map<std::string, BinlogArchive>* archives = nullptr);

// One line per gap in every database's binlog archive among `snapshots`:
// "binlog archive of WSO2AM_DB has a gap after binlog.000003:1234 …".
std::vector<std::string> binlog_gap_warnings(const std::vector<repo::Snapshot>& snapshots);
std::string binlog_gap_warning(const std::string& database_name, const BinlogGap& gap);
// Whether `snapshot` is a database backup that records its binlog position.
bool is_rollable_backup(const repo::Snapshot& snapshot);

// The newest point a database backup can be recovered to: the backup's time, or later
// where the binlog archive goes on from the backup's binlog position without a gap.
int64_t newest_recovery_point(const repo::Snapshot& backup, const std::vector<repo::Snapshot>& snapshots,
                              const std::string& database_id);

}  // namespace obkeep::ops
