// Streams: base.tar (pg_basebackup -Ft -D - -X fetch: the cluster and the WAL that makes it
// consistent), manifest.json (server version, system identifier, start and end time).
#include "db/postgres/postgres_base_engine.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "db/postgres/pg_connection.hpp"
#include "db/postgres/wal_file.hpp"
#include "db/data_directory.hpp"
#include "util/error.hpp"
#include "util/host.hpp"
#include "util/subprocess.hpp"

namespace obkeep::db {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// A single-quoted postgresql.conf value.
std::string conf_quote(const std::string& value) {
  std::string out = "'";
  for (char c : value) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

// The first WAL file the backup needs, from pg_basebackup -v's "write-ahead log start point:
// 0/2000028 on timeline 1"; empty when it did not say.
std::string wal_start_file(const std::string& report, uint64_t segment_bytes) {
  const std::string marker = "write-ahead log start point: ";
  size_t at = report.find(marker);
  if (at == std::string::npos) return "";
  at += marker.size();
  size_t space = report.find(' ', at);
  std::optional<uint64_t> lsn = parse_lsn(report.substr(at, space == std::string::npos ? std::string::npos : space - at));
  const std::string on = " on timeline ";
  if (!lsn || space == std::string::npos || report.compare(space, on.size(), on) != 0) return "";
  unsigned long timeline = std::strtoul(report.c_str() + space + on.size(), nullptr, 10);
  if (timeline == 0 || timeline > 0xFFFFFFFFul) return "";
  return wal_segment_name(static_cast<uint32_t>(timeline), lsn_segment(*lsn, segment_bytes), segment_bytes);
}

}  // namespace

BackupReport PostgresBaseEngine::backup(const ConnectionInfo& source, DumpSink& sink, const BackupOptions&) {
  PgConnection connection(source, source.database);
  std::string version = connection.query("SHOW server_version")[0][0];
  std::string system = connection.query("SELECT system_identifier::text FROM pg_control_system()")[0][0];
  std::string archiving = connection.query("SHOW archive_mode")[0][0];
  uint64_t segment_bytes =
      std::stoull(connection.query("SELECT setting FROM pg_settings WHERE name = 'wal_segment_size'")[0][0]);
  int64_t start = now_unix_nanos();
  auto writer = sink.create("base.tar");
  uint64_t bytes = 0;
  SubprocessResult result = run_subprocess(
      {pg_bin(source, "pg_basebackup"), "-h", source.host, "-p", std::to_string(source.port), "-U", source.user,
       "-D", "-", "-F", "t", "-X", "fetch", "--checkpoint=fast", "--no-password", "-v"},
      {{"PGPASSWORD", source.password}, {"PGCONNECT_TIMEOUT", "10"}}, [&](ByteView data) {
        writer->write(data);
        bytes += data.size();
      });
  if (result.exit_code != 0)
    throw Error("pg_basebackup of " + source.describe() + " failed (exit " + std::to_string(result.exit_code) +
                "): " + result.stderr_tail);
  writer->close();
  json manifest = {{"engine", "postgresql-base"}, {"server_version", version}, {"system_identifier", system},
                   {"start_time", format_rfc3339(start)}, {"end_time", format_rfc3339(now_unix_nanos())}};
  write_stream(sink, "manifest.json", manifest.dump(2));
  BackupReport report;
  report.tables.push_back({"base.tar", 0, bytes});
  report.consistency = "pg_basebackup of cluster " + system + " with the WAL to make it consistent";
  report.wal_start_file = wal_start_file(result.stderr_end, segment_bytes);
  report.wal_segment_bytes = segment_bytes;
  if (archiving == "off")
    report.warnings.push_back("archive_mode is off on " + source.describe() +
                              ": without WAL archiving (archive_command = 'obkeep wal-push %p …') this base backup "
                              "restores only to its own end");
  return report;
}

RestoreReport PostgresBaseEngine::restore(DumpSource& source, const ConnectionInfo&, const RestoreOptions& options) {
  make_new_data_directory(options.data_directory);
  const fs::path directory(options.data_directory);
  auto reader = source.open("base.tar");
  uint64_t bytes = 0;
  SubprocessResult result = run_subprocess(
      {"tar", "-x", "-f", "-", "-C", directory.string()}, {}, [](ByteView) {},
      [&](uint8_t* buffer, size_t capacity) {
        size_t n = reader->read(buffer, capacity);
        bytes += n;
        return n;
      });
  if (result.exit_code != 0)
    throw Error("extracting the base backup into " + directory.string() + " failed: " + result.stderr_tail);
  RestoreReport report;
  report.tables.push_back({"base.tar", 0, bytes});
  // Without a restore_command (a drill's scratch server), the backup's own WAL makes it
  // consistent and the server starts as it is.
  if (options.restore_command.empty()) return report;
  // Recovery settings: replay archived WAL through obkeep, stop at the target, then promote.
  // Archiving is switched off so a restored copy never writes into the source's archive.
  {
    std::ofstream conf(directory / "postgresql.auto.conf", std::ios::app);
    conf << "\n# added by obkeep restore-db\n"
         << "restore_command = " << conf_quote(options.restore_command) << "\n"
         << "archive_mode = 'off'\n";
    if (!options.recovery_target_time.empty())
      conf << "recovery_target_time = " << conf_quote(options.recovery_target_time) << "\n"
           << "recovery_target_action = 'promote'\n";
    if (!conf.flush()) throw Error("cannot write " + (directory / "postgresql.auto.conf").string());
  }
  std::ofstream signal(directory / "recovery.signal");
  if (!signal) throw Error("cannot write " + (directory / "recovery.signal").string());
  return report;
}

}  // namespace obkeep::db
