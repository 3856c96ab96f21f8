#include "ops/binlog_archiver.hpp"

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

#include "db/mariadb/binlog_stream.hpp"
#include "db/mariadb/gtid.hpp"
#include "db/mariadb/mariadb_connection.hpp"
#include "db/repository_dump_store.hpp"
#include "ops/binlog_archive.hpp"
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
  uint32_t last_event_s = 0;
  db::GtidPosition gtids;  // the transactions that begin in it, the last per domain
  std::optional<Clock::time_point> first_event_at;
  uint64_t end() const { return start + bytes.size(); }
};

// Saves pieces under a shared lock taken for each. The repository stays open between
// pieces, but a prune in between may have moved blobs its index knows: then it is opened
// again before anything is deduplicated against that index.
class PieceSaver {
 public:
  PieceSaver(const std::function<std::unique_ptr<repo::Repository>()>& open, std::string database_id)
      : open_(open), database_id_(std::move(database_id)) {}

  void save(const BinlogPiece& piece, ByteView data) {
    if (!repository_) repository_ = opened();
    auto lock = std::make_unique<repo::RepositoryLock>(*repository_, false);
    std::unique_ptr<repo::Repository> retired;
    if (index_went_away()) {
      retired = std::move(repository_);
      repository_ = opened();
    }
    db::RepositoryDumpSink sink(*repository_);
    db::write_stream(sink, piece.file, std::string_view(reinterpret_cast<const char*>(data.data()), data.size()));
    repo::Snapshot snapshot;
    snapshot.time_ns = now_unix_nanos();
    snapshot.tree = sink.finish();
    repository_->flush();
    snapshot.paths = {"binlog:" + database_id_ + "/" + piece.file + "@" + std::to_string(piece.start)};
    snapshot.tags = binlog_tags(database_id_, piece.file);
    snapshot.hostname = hostname();
    snapshot.username = username();
    snapshot.program_version = std::string("obkeep ") + OBKEEP_VERSION;
    snapshot.summary = binlog_piece_summary(piece);
    repo::save_snapshot(*repository_, snapshot);
  }

  std::vector<repo::Snapshot> snapshots() {
    if (!repository_) repository_ = opened();
    return repo::list_snapshots(*repository_);
  }

 private:
  std::unique_ptr<repo::Repository> opened() {
    auto repository = open_();
    repository->load_index();
    return repository;
  }

  bool index_went_away() {
    std::set<std::string> present;
    repository_->backend().list(storage::FileType::index, [&](const std::string& name, uint64_t) { present.insert(name); });
    std::vector<Id> known = repository_->loaded_index_files();
    for (const Id& id : repository_->written_index_files()) known.push_back(id);
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
  pending = Pending{files.front().first, 0, {}, "", gap, 0, {}, std::nullopt};
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
  Pending pending;
  {
    BinlogArchive archive(saver.snapshots(), database.id);
    if (archive.empty()) {
      pending.file = server_binlogs(server).front().first;  // the oldest the server keeps
    } else {
      pending.file = archive.resume_file();
      pending.start = archive.resume_position();
    }
  }
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
    saver.save(piece, pending.bytes);
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
