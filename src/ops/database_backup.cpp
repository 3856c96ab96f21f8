// One database → one snapshot whose files are the engine's dump streams.
#include "ops/database_backup.hpp"

#include <chrono>

#include "db/repository_dump_store.hpp"
#include "deploy/server_state.hpp"
#include "repo/snapshot.hpp"
#include "util/error.hpp"
#include "util/host.hpp"

namespace obkeep::ops {

using nlohmann::json;

db::ConnectionInfo connection_for(const deploy::Database& database, std::string& engine) {
  db::ConnectionInfo info;
  info.host = database.host;
  info.port = database.port.value_or(0);
  info.database = database.database;
  info.user = database.user;
  info.options = database.options;
  bool hook = database.options.count("backup_command") != 0;
  switch (database.engine) {
    case deploy::Engine::postgresql: engine = "postgresql"; break;
    case deploy::Engine::mysql: engine = "mysql"; break;
    case deploy::Engine::h2: engine = "h2"; break;
    case deploy::Engine::oracle:
    case deploy::Engine::sqlserver: engine = "hook"; break;
    case deploy::Engine::unknown:
      throw Error("database " + database.display_name() + " cannot be backed up: " + database.reason);
  }
  if (hook) engine = "hook";
  if (engine == "hook" && !hook)
    throw Error("database " + database.display_name() + " (" + deploy::to_string(database.engine) +
                ") needs a backup_command in its [[database]] entry of the config");
  info.engine = engine;
  if (engine == "h2") {
    if (database.h2_mode != "file") throw Error("database " + database.display_name() + ": " + database.reason);
    info.options["home"] = database.homes.front();
    for (const std::string& home : database.homes)
      if (!deploy::server_running_reason(home).empty()) info.options["server_running"] = "true";
  }
  if (database.password) {
    info.password = *database.password;
  } else if (engine != "h2" && engine != "hook") {
    throw Error("no password for database " + database.display_name() + " (" + database.credentials +
                "): add a [[database]] entry with name = \"" + database.display_name() +
                "\" and password_file or password_env to the config");
  }  // H2 file copies and command hooks may need no password
  return info;
}

json report_json(const db::BackupReport& report) {
  json tables = json::array();
  for (const auto& table : report.tables) tables.push_back({{"name", table.name}, {"rows", table.rows}, {"bytes", table.bytes}});
  json out = {{"consistency", report.consistency}, {"crash_consistent_only", report.crash_consistent_only},
              {"warnings", report.warnings}, {"tables", tables}};
  if (!report.binlog_file.empty()) out["binlog"] = {{"file", report.binlog_file}, {"position", report.binlog_position}};
  if (!report.binlog_gtid.empty()) out["binlog"]["gtid"] = report.binlog_gtid;
  if (!report.wal_start_file.empty())
    out["wal"] = {{"start_file", report.wal_start_file}, {"segment_bytes", report.wal_segment_bytes}};
  return out;
}

DatabaseBackupOutcome backup_database(repo::Repository& repository, const deploy::Database& database,
                                      const std::vector<std::string>& tags, int jobs, const std::string& engine_override) {
  auto start = std::chrono::steady_clock::now();
  int64_t start_time = now_unix_nanos();
  std::string engine_name;
  db::ConnectionInfo info = connection_for(database, engine_name);
  if (!engine_override.empty()) engine_name = engine_override;
  auto engine = db::make_engine(engine_name);
  db::RepositoryDumpSink sink(repository);
  uint64_t stored_before = repository.statistics().bytes_stored;
  db::BackupOptions options;
  options.jobs = jobs;
  DatabaseBackupOutcome outcome;
  outcome.report = engine->backup(info, sink, options);
  Id tree = sink.finish();
  repository.flush();
  outcome.duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  outcome.bytes = sink.bytes_written();
  repo::Snapshot snapshot;
  snapshot.time_ns = start_time;
  snapshot.tree = tree;
  snapshot.paths = {"database:" + database.id};
  snapshot.tags = tags;
  snapshot.tags.push_back("engine=" + engine_name);
  if (outcome.report.crash_consistent_only) snapshot.tags.push_back("crash-consistent");
  snapshot.hostname = hostname();
  snapshot.username = username();
  snapshot.program_version = std::string("obkeep ") + OBKEEP_VERSION;
  snapshot.summary = report_json(outcome.report);
  snapshot.summary["bytes_processed"] = outcome.bytes;
  snapshot.summary["bytes_added"] = repository.statistics().bytes_stored - stored_before;
  snapshot.summary["duration_s"] = outcome.duration_s;
  snapshot.summary["datasources"] = database.datasources;
  outcome.snapshot = repo::save_snapshot(repository, snapshot);
  return outcome;
}

}  // namespace obkeep::ops
