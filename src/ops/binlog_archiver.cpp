#include "ops/binlog_archiver.hpp"

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

#include "db/mariadb/binlog_stream.hpp"
#include "db/mariadb/gtid.hpp"
#include "db/mariadb/mariadb_connection.hpp"
#include "ops/binlog_archive.hpp"
#include "ops/binlog_entries.hpp"
#include "ops/database_backup.hpp"
#include "repo/lock.hpp"
#include "util/error.hpp"
#include "util/host.hpp"
#include "util/interrupt.hpp"

namespace obkeep::ops {

namespace {

using Clock = std::chrono::steady_clock;

// What has arrived since the last piece was saved.
struct Pending {
  std::string file;
  uint64_t start = 0;
  Bytes bytes;  // from `start`; the magic first when start is 0
  std::string next_file;
  std::string gap;
  std::string gap_after;      // where the archive ended before the gap
  bool begins_epoch = false;  // the archive cannot go on from its last piece: a new epoch
  uint32_t last_event_s = 0;
  db::GtidPosition gtids;  // the transactions that begin in it, the last per domain
  std::optional<Clock::time_point> first_event_at;
  uint64_t end() const { return start + bytes.size(); }
};

// Saves pieces under a shared lock taken for each. The repository stays open between
// pieces (without its index: a binlog rarely repeats); when a prune in between removed an
// index file this process wrote (a save that failed half way left blobs no entry names), it
// is opened again rather than reuse what that index knew.
class PieceSaver {
 public:
  PieceSaver(const std::function<std::unique_ptr<repo::Repository>()>& open, std::string database_id)
      : open_(open), database_id_(std::move(database_id)) {}

  // A marker is saved once: an append-only store refuses to replace one.
  void begin_epoch(const BinlogEpoch& epoch) {
    auto lock = std::make_unique<repo::RepositoryLock>(repository(), false);
    BinlogEntries(*repository_, database_id_).start_epoch(epoch);
  }

  void save(const BinlogPiece& piece, ByteView data) {
    repo::Repository& opened = repository();
    auto lock = std::make_unique<repo::RepositoryLock>(opened, false);
    std::unique_ptr<repo::Repository> retired;
    if (index_went_away()) {
      retired = std::move(repository_);
      repository_ = open_();
    }
    BinlogEntries(*repository_, database_id_).save_piece(piece, data);
  }

  repo::Repository& repository() {
    if (!repository_) repository_ = open_();
    return *repository_;
  }

 private:
  bool index_went_away() {
    std::set<std::string> present;
    repository_->backend().list(storage::FileType::index, [&](const std::string& name, uint64_t) { present.insert(name); });
    std::vector<Id> known = repository_->written_index_files();
    return std::any_of(known.begin(), known.end(), [&](const Id& id) { return !present.count(id.hex()); });
  }

  std::function<std::unique_ptr<repo::Repository>()> open_;
  std::string database_id_;
  std::unique_ptr<repo::Repository> repository_;
};

// The server's binlog files and their sizes, oldest first.
std::vector<std::pair<std::string, uint64_t>> server_binlogs(const db::ConnectionInfo& server) {
  db::MariadbConnection connection(server, "");
  std::vector<std::pair<std::string, uint64_t>> files;
  for (const auto& row : connection.query("SHOW BINARY LOGS")) files.emplace_back(row[0], std::stoull(row[1]));
  if (files.empty()) throw Error("mysql://" + server.host + ":" + std::to_string(server.port) + " keeps no binary log (log_bin is off)");
  return files;
}

// Whether the server still has `pending`'s file to its end; if not, streaming goes on
// from the server's oldest file, and the next piece records the gap.
void check_resume_point(const db::ConnectionInfo& server, Pending& pending) {
  auto files = server_binlogs(server);
  auto found = std::find_if(files.begin(), files.end(), [&](const auto& f) { return f.first == pending.file; });
  std::string gap;
  if (found == files.end())
    gap = "binlog " + pending.file + " was purged from the server before it was archived past offset " +
          std::to_string(pending.end());
  else if (found->second < pending.end())
    gap = "the server's " + pending.file + " is shorter (" + std::to_string(found->second) + " bytes) than the archive (" +
          std::to_string(pending.end()) + "): the server was reset or replaced";
  if (gap.empty()) return;
  Pending fresh;
  fresh.file = files.front().first;
  fresh.gap = gap;
  fresh.gap_after = pending.file + ":" + std::to_string(pending.end());
  fresh.begins_epoch = true;
  pending = std::move(fresh);
}

// Where the archive goes on: after the newest piece of the last epoch that is in one of the
// server's files (a few existence checks), else after the epoch's end, which the server
// then no longer has (a gap: check_resume_point says so). `epoch` is set when the pieces go
// on in an epoch that exists.
struct ResumePoint {
  Pending pending;
  std::optional<uint64_t> epoch;
  uint64_t next_epoch = 0;
  uint64_t index = 0;
};

ResumePoint resume_point(repo::Repository& repository, const std::string& database_id, const db::ConnectionInfo& server) {
  ResumePoint resume;
  BinlogEntries archive(repository, database_id);
  std::vector<BinlogEpoch> epochs = archive.epochs();
  auto files = server_binlogs(server);
  auto after = [&](const BinlogPiece& last) {
    resume.epoch = last.epoch;
    resume.pending.file = last.next_file.empty() ? last.file : last.next_file;
    resume.pending.start = last.next_file.empty() ? last.end : 0;
    resume.index = last.next_file.empty() ? last.index + 1 : 0;
    return resume;
  };
  if (epochs.empty()) {
    // Pieces an obkeep before entries saved as snapshots: the archive goes on where they end.
    BinlogArchive older(repo::list_snapshots(repository), database_id);
    resume.pending.file = older.empty() ? files.front().first : older.resume_file();
    resume.pending.start = older.resume_position();
    return resume;
  }
  const BinlogEpoch& current = epochs.back();
  resume.next_epoch = current.number + 1;
  for (auto file = files.rbegin(); file != files.rend(); ++file)
    if (std::optional<BinlogPiece> last = archive.last_piece(current.number, file->first)) return after(*last);
  if (std::optional<BinlogPiece> first = archive.last_piece(current.number, current.first_file))
    return after(archive.last_of_chain(std::move(*first)));
  // The epoch has no piece yet (its marker was saved, its first piece not): it begins again.
  resume.epoch = current.number;
  resume.pending.file = current.first_file;
  resume.pending.start = current.first_start;
  resume.pending.gap = current.gap;
  return resume;
}

uint32_t server_id_for(const std::string& database_id) {
  uint32_t hash = 2166136261u;
  for (unsigned char c : database_id) hash = (hash ^ c) * 16777619u;
  return 0x4f420000u + (hash & 0xffffu);  // "OB" and 16 bits of the database: its own per database
}

bool sleep_unless_interrupted(int seconds) {
  for (int i = 0; i < seconds * 10; ++i) {
    if (interrupted()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return !interrupted();
}

}  // namespace

BinlogArchiverResult run_binlog_archiver(const std::function<std::unique_ptr<repo::Repository>()>& open_repository,
                                         const deploy::Database& database, const BinlogArchiverOptions& options,
                                         const Log& log) {
  std::string engine;
  db::ConnectionInfo server = connection_for(database, engine);
  if (engine != "mysql") throw Error("binlog-archive is for MariaDB/MySQL; " + database.display_name() + " is " + engine);
  uint32_t server_id = options.server_id ? options.server_id : server_id_for(database.id);

  PieceSaver saver(open_repository, database.id);
  BinlogArchiverResult result;
  ResumePoint resume = resume_point(saver.repository(), database.id, server);
  Pending pending = std::move(resume.pending);
  std::optional<uint64_t> epoch = resume.epoch;  // where pieces go; unset: one begins with the next
  uint64_t next_epoch = resume.next_epoch, index = resume.index;
  Clock::time_point last_saved = Clock::now();
  std::optional<Clock::time_point> caught_up_at;  // a heartbeat after the last event

  auto save = [&](bool rotated_to_next) {
    BinlogPiece piece;
    piece.file = pending.file;
    piece.start = pending.start;
    piece.end = pending.end();
    piece.next_file = pending.next_file;
    piece.gap = pending.gap;
    piece.database_name = database.display_name();
    piece.gtids = pending.gtids;
    // Everything up to the last event is archived; a heartbeat since then says nothing
    // newer existed when it came.
    int64_t event_ns = int64_t{pending.last_event_s} * 1000000000;
    int64_t caught_up_ns = caught_up_at ? now_unix_nanos() - std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                                 Clock::now() - *caught_up_at).count()
                                        : 0;
    piece.recovery_point_ns = std::max(event_ns, caught_up_ns);
    if (!epoch || pending.begins_epoch) {
      saver.begin_epoch({next_epoch, pending.file, pending.start, pending.gap, pending.gap_after, now_unix_nanos(),
                         database.display_name(), false});
      epoch = next_epoch++;
      pending.begins_epoch = false;  // a retry of the piece goes into this epoch
      index = 0;
    }
    piece.epoch = *epoch;
    piece.index = index;
    saver.save(piece, pending.bytes);
    index = rotated_to_next ? 0 : index + 1;
    result.pieces++;
    result.bytes += pending.bytes.size();
    last_saved = Clock::now();
    Pending next;
    next.file = rotated_to_next ? pending.next_file : pending.file;
    next.start = rotated_to_next ? 0 : pending.end();
    next.last_event_s = pending.last_event_s;
    pending = std::move(next);
  };

  int failures = 0;
  while (!interrupted()) {
    try {
      // Whatever arrived before the stream broke is saved first: a gap found below then
      // lies behind it, and a rotation already seen is not streamed again.
      if (pending.first_event_at) save(!pending.next_file.empty());
      check_resume_point(server, pending);
      if (!pending.gap.empty() && log) log(LogLevel::warning, "binlog archive of " + database.display_name() + ": " + pending.gap + "; going on from " + pending.file + "\n");
      if (pending.start == 0 && pending.bytes.empty()) pending.bytes.assign(db::binlog_magic, db::binlog_magic + 4);
      db::BinlogStream stream(server, pending.file, std::max<uint64_t>(pending.end(), db::binlog_header_size), server_id,
                              options.heartbeat_seconds);
      failures = 0;
      while (!interrupted()) {
        db::BinlogEvent event = stream.next();
        failures = 0;
        if (event.kind == db::BinlogEvent::Kind::heartbeat) {
          caught_up_at = Clock::now();
        } else if (event.kind == db::BinlogEvent::Kind::data) {
          if (event.file != pending.file || event.position != pending.end())
            throw IntegrityError("binlog stream of " + database.display_name() + " went from " + pending.file + ":" +
                        std::to_string(pending.end()) + " to " + event.file + ":" + std::to_string(event.position));
          pending.bytes.insert(pending.bytes.end(), event.bytes.begin(), event.bytes.end());
          pending.last_event_s = std::max(pending.last_event_s, event.timestamp);
          if (event.type == db::gtid_event_type)
            if (std::optional<db::Gtid> gtid = db::gtid_of_event(event.bytes)) pending.gtids[gtid->domain] = *gtid;
          if (!pending.first_event_at) pending.first_event_at = Clock::now();
          caught_up_at.reset();
          if (!event.next_file.empty()) {
            pending.next_file = event.next_file;
            save(true);
            pending.bytes.assign(db::binlog_magic, db::binlog_magic + 4);
            continue;
          }
        }
        auto now = Clock::now();
        bool has_events = pending.first_event_at.has_value();
        if ((has_events && (now - *pending.first_event_at >= std::chrono::seconds(options.piece_seconds) ||
                            pending.bytes.size() >= options.max_piece_bytes)) ||
            (!has_events && caught_up_at && now - last_saved >= std::chrono::seconds(options.confirm_seconds))) {
          save(false);
          if (options.stop_after_pieces && result.pieces >= static_cast<uint64_t>(options.stop_after_pieces)) return result;
        }
      }
    } catch (const IntegrityError&) {
      throw;  // an event missing from the stream: archiving on would hide a hole
    } catch (const Error& e) {
      if (e.code() == ExitCode::interrupted || interrupted()) break;
      int pause = std::min(30, 1 << std::min(failures, 5));
      failures++;
      if (log)
        log(LogLevel::warning, "binlog archive of " + database.display_name() + ": " + e.what() + "; retrying in " +
                                   std::to_string(pause) + " s\n");
      if (!sleep_unless_interrupted(pause)) break;
    }
  }
  // Stopped: what arrived is kept (the server still has it if this save fails).
  if (pending.first_event_at) {
    try {
      save(false);
    } catch (const Error& e) {
      if (log) log(LogLevel::warning, "binlog archive of " + database.display_name() + ": the last piece was not saved: " + e.what() + "\n");
    }
  }
  return result;
}

}  // namespace obkeep::ops
