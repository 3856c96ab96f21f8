// The binlog archive of a database as archive entries (repo/archive_entry.hpp), named so
// that resuming, replaying and judging it cost a few requests however many pieces it
// holds. An epoch is a run of the archive without a gap; a new one begins where the archive
// could not go on (a file purged before it was archived, the server replaced). In an epoch
// the pieces of each binlog file are numbered from 0 — kind "binlog", stanza the database
// id, file "<epoch>/<binlog file>/<index>" — and each epoch has a marker — kind
// "binlog-epoch", file "<epoch>" — that says where and why it began.
// See docs/repository-format.md, "Archive entries", and docs/database-dumps.md.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ops/binlog_archive.hpp"
#include "repo/archive_entry.hpp"
#include "repo/repository.hpp"
#include "repo/snapshot.hpp"

namespace obkeep::ops {

struct BinlogEpoch {
  uint64_t number = 0;
  std::string first_file;    // the binlog file it begins with
  uint64_t first_start = 0;  // where in it: 0, but where an archive of snapshots ended
  std::string gap;           // why it does not go on from the epoch before (empty for the first)
  std::string after;         // where the epoch before ended ("binlog.000003:1234"), when known
  int64_t started_ns = 0;
  std::string database_name;
  bool forgotten = false;    // retention removed every piece of it
};

repo::ArchiveKey binlog_piece_key(const std::string& database_id, uint64_t epoch, const std::string& file, uint64_t index);
repo::ArchiveKey binlog_epoch_key(const std::string& database_id, uint64_t epoch);

// One database's archive in a repository.
class BinlogEntries {
 public:
  BinlogEntries(repo::Repository& repository, std::string database_id)
      : repository_(repository), database_id_(std::move(database_id)) {}

  // Every epoch, oldest first (markers stay when their pieces go: a few requests).
  std::vector<BinlogEpoch> epochs();
  // How many pieces of `file` the epoch holds (numbered from 0, without a hole).
  uint64_t piece_count(uint64_t epoch, const std::string& file);
  std::optional<BinlogPiece> piece(uint64_t epoch, const std::string& file, uint64_t index);
  std::optional<BinlogPiece> last_piece(uint64_t epoch, const std::string& file);

  // The pieces of `epoch` from the beginning of `file` on, across rotations, through the
  // first for which `enough` holds, or to the end of the epoch: one load a piece.
  std::vector<BinlogPiece> chain(uint64_t epoch, const std::string& file,
                                 const std::function<bool(const BinlogPiece&)>& enough);
  // The newest piece of `from`'s epoch reached from it following rotations, a gallop a file.
  BinlogPiece last_of_chain(BinlogPiece from);
  // The newest recovery point the epoch reaches from (file, position), a gallop a file;
  // nullopt when it does not hold that position.
  std::optional<int64_t> reachable_from(uint64_t epoch, const std::string& file, uint64_t position);
  // The epoch a backup's position is in: the newest that holds `file` and began at or
  // before the backup, else the newest that holds it.
  std::optional<uint64_t> epoch_holding(const std::vector<BinlogEpoch>& epochs, const std::string& file, int64_t backup_ns);

  // Writing; the caller holds a lock. A marker is saved before the first piece of its epoch.
  void start_epoch(const BinlogEpoch& epoch);
  void save_piece(const BinlogPiece& piece, ByteView data);  // piece.epoch and piece.index set
  void mark_forgotten(BinlogEpoch epoch);

 private:
  repo::Repository& repository_;
  std::string database_id_;
};

// The bytes of a piece, from its entry or (written before entries) its snapshot.
Bytes read_binlog_piece(repo::Repository& repository, const BinlogPiece& piece);

// The piece an entry of kind "binlog" holds, or the epoch a marker describes.
BinlogPiece binlog_piece_of(const repo::ArchiveEntry& entry);
BinlogEpoch binlog_epoch_of(const repo::ArchiveEntry& entry);

// Marks forgotten every epoch but the newest of each database whose pieces among `entries`
// (all of a repository's) were all in `removed` (retention), so that its gap is no longer
// reported.
void mark_emptied_epochs_forgotten(repo::Repository& repository, const std::vector<repo::ArchiveEntry>& entries,
                                   const std::set<Id>& removed);

// Per database id, every piece among `entries` (all of a repository's), in archive order:
// by epoch, each file's pieces by index, the files in the order they were begun.
std::map<std::string, BinlogArchive> binlog_archives(const std::vector<repo::ArchiveEntry>& entries);

// For the databases with a backup holding a binlog position among `snapshots`, from each
// one's epoch markers and a few existence checks (status; check reads every piece instead):
struct BinlogArchiveReach {
  // the newest point the newest such backup reaches through the archive, when later than
  // the backup (a database whose archive cannot be read is left out);
  std::map<std::string, int64_t> points;
  // one line per gap in an archive, or per archive that cannot be read.
  std::vector<std::string> gaps;
};
BinlogArchiveReach binlog_archive_reach(repo::Repository& repository, const std::vector<repo::Snapshot>& snapshots);

}  // namespace obkeep::ops
