#include "ops/binlog_replay.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "db/repository_dump_store.hpp"
#include "ops/binlog_archive.hpp"
#include "ops/binlog_entries.hpp"
#include "util/error.hpp"
#include "util/host.hpp"
#include "util/interrupt.hpp"
#include "util/subprocess.hpp"

namespace obkeep::ops {

namespace fs = std::filesystem;

BinlogPosition backup_binlog_position(repo::Repository& repository, const repo::Snapshot& backup) {
  db::RepositoryDumpSource dump(repository, backup.tree);
  nlohmann::json manifest;
  try {
    manifest = nlohmann::json::parse(db::read_stream(dump, "manifest.json"));
  } catch (const nlohmann::json::exception& e) {
    throw IntegrityError("backup " + backup.id.short_hex() + ": manifest.json: " + e.what());
  }
  const nlohmann::json& binlog = manifest.value("binlog", nlohmann::json());
  if (!binlog.is_object() || !binlog.contains("file") || !binlog.contains("position"))
    throw Error("backup " + backup.id.short_hex() +
                " records no binlog position (the binary log was off, or the backup user lacked RELOAD): it cannot be "
                "rolled forward");
  BinlogPosition position;
  position.file = binlog["file"].get<std::string>();
  const nlohmann::json& offset = binlog["position"];
  position.position = offset.is_string() ? std::stoull(offset.get<std::string>()) : offset.get<uint64_t>();
  position.gtid = binlog.value("gtid", "");
  return position;
}

BinlogReplayPlan plan_binlog_replay(repo::Repository& repository, const deploy::Database& database,
                                    const repo::Snapshot& backup, const BinlogTarget& until,
                                    const std::vector<repo::Snapshot>& snapshots) {
  BinlogReplayPlan plan;
  plan.start = backup_binlog_position(repository, backup);
  plan.until = until;
  if (until.gtid && plan.start.gtid.empty())
    throw Error("backup " + backup.id.short_hex() + " records no GTID position: replay it to a time (--until) instead");
  BinlogEntries archive(repository, database.id);
  std::vector<BinlogEpoch> epochs = archive.epochs();
  std::optional<uint64_t> epoch = archive.epoch_holding(epochs, plan.start.file, backup.time_ns);
  if (!epoch) {
    // Not in the archive's entries: pieces an obkeep before them saved as snapshots, if any.
    plan.pieces = BinlogArchive(snapshots, database.id).pieces_for(plan.start.file, plan.start.position, until, database.display_name());
    return plan;
  }
  std::vector<BinlogPiece> pieces = archive.chain(*epoch, plan.start.file, [&](const BinlogPiece& piece) { return piece_passes(piece, until); });
  // The next epoch's first piece records why the archive breaks there, for the refusal.
  if (*epoch + 1 < epochs.size() && !pieces.empty() && !piece_passes(pieces.back(), until))
    if (std::optional<BinlogPiece> next = archive.piece(*epoch + 1, epochs[*epoch + 1].first_file, 0)) pieces.push_back(std::move(*next));
  plan.pieces = BinlogArchive(std::move(pieces)).pieces_for(plan.start.file, plan.start.position, until, database.display_name());
  return plan;
}

namespace {

// A private directory that is removed with everything in it.
class ScratchDirectory {
 public:
  ScratchDirectory() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/obkeep-binlog-XXXXXX";
    if (!::mkdtemp(pattern.data())) throw_system_error("cannot make a directory for the binlog replay", errno);
    path_ = pattern;
    cleanup_ = std::make_unique<EmergencyCleanup>([path = path_] {
      std::error_code ignored;
      fs::remove_all(path, ignored);
    });
  }
  ~ScratchDirectory() {
    cleanup_.reset();
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::unique_ptr<EmergencyCleanup> cleanup_;
};

// mariadb-binlog's --stop-datetime, read in UTC: the first second not replayed.
std::string stop_datetime(int64_t until_ns) {
  time_t seconds = static_cast<time_t>(until_ns / 1000000000) + 1;
  struct tm utc {};
  gmtime_r(&seconds, &utc);
  char text[32];
  strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &utc);
  return text;
}

void write_all(int fd, ByteView data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_system_error("cannot write " + path, errno);
    data = data.subspan(static_cast<size_t>(n));
  }
}

}  // namespace

BinlogReplay replay_binlog(repo::Repository& repository, const deploy::Database& database, const BinlogReplayPlan& plan,
                           const db::ConnectionInfo& source, const db::ConnectionInfo& target) {
  const BinlogPosition& start = plan.start;
  const BinlogTarget& until = plan.until;
  const std::vector<BinlogPiece>& pieces = plan.pieces;

  ScratchDirectory scratch;
  std::vector<std::string> files;
  BinlogReplay replay;
  replay.from = start.file + ":" + std::to_string(start.position);
  replay.until = until.describe();
  replay.pieces = pieces.size();
  int fd = -1;
  for (const BinlogPiece& piece : pieces) {
    throw_if_interrupted();
    if (files.empty() || piece.start == 0) {
      if (fd >= 0) ::close(fd);
      files.push_back(scratch.path() + "/" + piece.file);
      fd = ::open(files.back().c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      if (fd < 0) throw_system_error("cannot write " + files.back(), errno);
    }
    Bytes data = read_binlog_piece(repository, piece);
    try {
      write_all(fd, data, files.back());
    } catch (...) {
      ::close(fd);
      throw;
    }
    replay.bytes += data.size();
  }
  if (fd >= 0) ::close(fd);

  // The events of the backed-up database only, renamed when restored under another name.
  // By GTID both ends are GTID positions (mariadb-binlog takes no byte offset with a GTID):
  // the backup's, exclusive, and the target, inclusive.
  std::vector<std::string> argv = {"mariadb-binlog", "--no-defaults", "--database=" + source.database};
  if (until.gtid)
    argv.insert(argv.end(), {"--start-position=" + start.gtid, "--stop-position=" + until.gtid->to_string()});
  else
    argv.insert(argv.end(), {"--start-position=" + std::to_string(start.position), "--stop-datetime=" + stop_datetime(until.until_ns)});
  if (target.database != source.database) argv.push_back("--rewrite-db=" + source.database + "->" + target.database);
  argv.insert(argv.end(), files.begin(), files.end());
  std::string sql_path = scratch.path() + "/replay.sql";
  {
    int out = ::open(sql_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0) throw_system_error("cannot write " + sql_path, errno);
    SubprocessResult decoded;
    try {
      decoded = run_subprocess(argv, {{"TZ", "UTC"}}, [&](ByteView data) { write_all(out, data, sql_path); });
    } catch (...) {
      ::close(out);
      throw;
    }
    ::close(out);
    if (decoded.exit_code != 0)
      throw Error("mariadb-binlog could not read the archived binlog of " + database.display_name() + ": " +
                  decoded.stderr_tail);
  }
  int in = ::open(sql_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) throw_system_error("cannot read " + sql_path, errno);
  SubprocessResult applied = run_subprocess(
      target.options.count("unix_socket")
          ? std::vector<std::string>{"mariadb", "--no-defaults", "--binary-mode", "--socket=" + target.options.at("unix_socket"),
                                     "--user=" + target.user}
          : std::vector<std::string>{"mariadb", "--no-defaults", "--binary-mode", "--host=" + target.host,
                                     "--port=" + std::to_string(target.port), "--user=" + target.user},
      {{"MYSQL_PWD", target.password}}, [](ByteView) {},
      [in](uint8_t* buffer, size_t size) -> size_t {
        ssize_t n;
        do n = ::read(in, buffer, size);
        while (n < 0 && errno == EINTR);
        return n > 0 ? static_cast<size_t>(n) : 0;
      });
  ::close(in);
  if (applied.exit_code != 0)
    throw Error("replaying the binlog of " + database.display_name() + " into " + target.describe() + " failed: " +
                applied.stderr_tail);
  return replay;
}

}  // namespace obkeep::ops
