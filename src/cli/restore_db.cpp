// `obkeep restore-db SNAPSHOT --config FILE --database NAME --to JDBC_URL`: restore one
// database's backup into the database the URL names (created when absent).
// `--to-datadir DIR [--until TIME]`: restore a PostgreSQL base backup into a new data
// directory that replays archived WAL up to TIME when the server starts.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <optional>

#include "cli/common.hpp"
#include "ops/database_backup.hpp"
#include "db/mariadb/mariadb_scratch_server.hpp"
#include "ops/binlog_replay.hpp"
#include "ops/database_restore.hpp"
#include "cli/deployment_context.hpp"
#include "db/repository_dump_store.hpp"
#include "deploy/jdbc_url.hpp"
#include "repo/lock.hpp"
#include "repo/snapshot.hpp"
#include "util/host.hpp"
#include "util/error.hpp"

namespace obkeep::cli {

namespace {

struct Options {
  std::string snapshot = "latest", database, to, user, password_file, until, datadir, stanza = "main";
  int jobs = 2;
  bool drop_existing = false;
};

std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

int64_t parse_until(const std::string& text) {
  try {
    return parse_rfc3339(text);
  } catch (const Error&) {
    throw Error("--until: not an RFC 3339 time: " + text + " (e.g. 2026-11-25T14:03:00Z)", ExitCode::usage);
  }
}

// A base backup into a new data directory, set up so that the server, when started,
// replays the archived WAL through `obkeep wal-fetch` up to --until and promotes.
// The newest backup with `tags` taken before `until_ns`.
repo::Snapshot newest_before(repo::Repository& repository, const std::vector<std::string>& tags, int64_t until_ns,
                             const deploy::Database& database) {
  std::optional<repo::Snapshot> newest, oldest;
  for (repo::Snapshot& snapshot : repo::list_snapshots(repository)) {  // oldest first
    bool all = true;
    for (const std::string& tag : tags) all = all && snapshot.has_tag(tag);
    if (all && !oldest) oldest = snapshot;
    if (all && snapshot.time_ns <= until_ns) newest = std::move(snapshot);
  }
  if (!newest)
    throw Error("no backup of " + database.display_name() + " taken before " + format_rfc3339(until_ns) +
                (oldest ? ": the oldest kept is of " + format_rfc3339(oldest->time_ns) : ""));
  return *newest;
}

// A mariadb-backup copy into a new data directory, prepared: mariadbd starts on it. With
// --until, the newest such copy before it, then the archived binlog replayed into it on a
// private server: physical + log replay, the fast path to a point in time.
int restore_physical_mariadb(const GlobalOptions& global, const deploy::Database& database, repo::Repository& repository,
                             const Options& options) {
  std::vector<std::string> tags = {"database=" + database.id, "engine=mariadb-physical"};
  std::optional<int64_t> until;
  if (!options.until.empty()) until = parse_until(options.until);
  repo::Snapshot backup = until && options.snapshot == "latest" ? newest_before(repository, tags, *until, database)
                                                                : repo::find_snapshot(repository, options.snapshot, tags);
  if (!backup.has_tag("engine=mariadb-physical"))
    throw Error("snapshot " + backup.id.short_hex() + " is not a physical backup (obkeep base-backup takes one)");
  if (until) ops::backup_binlog_position(repository, backup);  // before anything is written
  db::RestoreOptions restore;
  restore.data_directory = std::filesystem::absolute(options.datadir).string();
  db::RepositoryDumpSource dump(repository, backup.tree);
  db::make_engine("mariadb-physical")->restore(dump, db::ConnectionInfo{}, restore);
  std::optional<ops::BinlogReplay> replay;
  if (until) {
    db::MariadbScratchServer server(restore.data_directory);
    server.start(300);
    std::string engine;
    db::ConnectionInfo source = ops::connection_for(database, engine);
    replay = ops::replay_binlog(repository, database, backup, source, server.connection(source.database), *until);
    server.stop();
  }
  if (!global.quiet) {
    std::cout << "restored physical backup " << backup.id.short_hex() << " of " << database.display_name() << " into "
              << restore.data_directory << ", prepared: start mariadbd --datadir=" << restore.data_directory << "\n";
    if (replay)
      std::cout << "replayed the archived binlog from " << replay->from << " up to " << replay->until << " ("
                << replay->pieces << " pieces, " << format_bytes(replay->bytes) << ")\n";
  }
  return 0;
}

int restore_point_in_time(const GlobalOptions& global, const deploy::Database& database, repo::Repository& repository,
                          const Options& options) {
  if (database.engine == deploy::Engine::mysql) return restore_physical_mariadb(global, database, repository, options);
  if (database.engine != deploy::Engine::postgresql)
    throw Error("--to-datadir is for PostgreSQL and MariaDB; " + database.display_name() + " is " +
                deploy::to_string(database.engine));
  int64_t until = options.until.empty() ? INT64_MAX : parse_until(options.until);
  std::vector<std::string> tags = {"database=" + database.id, "engine=postgresql-base"};
  std::optional<repo::Snapshot> base;
  if (options.snapshot == "latest") {
    for (repo::Snapshot& snapshot : repo::list_snapshots(repository))  // oldest first
      if (snapshot.has_tag(tags[0]) && snapshot.has_tag(tags[1]) && snapshot.time_ns <= until) base = std::move(snapshot);
    if (!base)
      throw Error("no base backup of " + database.display_name() +
                  (options.until.empty() ? "" : " taken before " + options.until) + " (obkeep base-backup takes one)");
  } else {
    base = repo::find_snapshot(repository, options.snapshot, tags);
    if (!base->has_tag(tags[1])) throw Error("snapshot " + base->id.short_hex() + " is not a base backup");
  }
  if (global.password_file.empty())
    throw Error("point-in-time recovery needs [repository] password_file in the config (or --password-file): the "
                "server's restore_command opens the repository with it");
  std::string repository_url = global.repository;
  if (repository_url.find("://") == std::string::npos) repository_url = std::filesystem::absolute(repository_url).string();
  std::string command = shell_quote(std::filesystem::read_symlink("/proc/self/exe").string()) + " -r " +
                        shell_quote(repository_url) + " --password-file " +
                        shell_quote(std::filesystem::absolute(global.password_file).string()) + " -q wal-fetch --stanza " +
                        shell_quote(options.stanza) + " %f %p";
  db::RestoreOptions restore;
  restore.data_directory = std::filesystem::absolute(options.datadir).string();
  restore.restore_command = command;
  if (!options.until.empty()) {
    // PostgreSQL's own form, in UTC: "2026-11-25 14:03:00.123456+00".
    time_t seconds = static_cast<time_t>(until / 1000000000);
    struct tm utc {};
    gmtime_r(&seconds, &utc);
    char text[64];
    size_t n = strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &utc);
    snprintf(text + n, sizeof text - n, ".%06lld+00", static_cast<long long>(until % 1000000000 / 1000));
    restore.recovery_target_time = text;
  }
  db::RepositoryDumpSource dump(repository, base->tree);
  db::make_engine("postgresql-base")->restore(dump, db::ConnectionInfo{}, restore);
  if (!global.quiet)
    std::cout << "restored base backup " << base->id.short_hex() << " of " << database.display_name() << " into "
              << restore.data_directory << "; when started, PostgreSQL replays archived WAL (stanza " << options.stanza
              << ") " << (options.until.empty() ? "to its end" : "up to " + options.until + " and promotes") << "\n";
  return 0;
}

}  // namespace

void add_restore_db_command(CLI::App& app, Context& context) {
  auto* command = app.add_subcommand("restore-db", "restore a database backup into a database");
  auto options = std::make_shared<Options>();
  command->add_option("snapshot", options->snapshot, "snapshot id, prefix, or latest (the newest of that database)");
  command->add_option("--database", options->database, "datasource name (WSO2AM_DB) or database as discover lists it")->required();
  command->add_option("--to", options->to, "JDBC URL of the target database (created when absent)");
  command->add_option("--to-datadir", options->datadir,
                      "a new data directory for a physical backup: PostgreSQL (then WAL replay), MariaDB (prepared)");
  command->add_option("--stanza", options->stanza, "with --to-datadir: the WAL archive's stanza (default main)");
  command->add_option("--user", options->user, "target user (default: the source datasource's)");
  command->add_option("--password-file", options->password_file, "target password (default: the source datasource's)");
  command->add_option("--jobs", options->jobs, "parallel workers")->check(CLI::Range(1, 64));
  command->add_flag("--drop-existing", options->drop_existing, "replace a target database that already has tables");
  command->add_option("--until", options->until,
                      "point in time (RFC 3339) to recover to: PostgreSQL with --to-datadir (WAL), MariaDB/MySQL with --to "
                      "(the newest backup before it, then the archived binlog)");
  command->callback([&context, options] {
    context.action = [&context, options] {
      if (options->to.empty() == options->datadir.empty())
        throw Error("restore-db needs --to JDBC_URL (a logical restore) or --to-datadir DIR (PostgreSQL point in time)",
                    ExitCode::usage);
      if (!options->datadir.empty() && !context.global.site.empty())
        throw Error("--to-datadir takes no --site: the restored server fetches WAL from the primary repository", ExitCode::usage);
      DeploymentContext deployment = load_deployment(context.global, "restore-db");
      const deploy::Database& database = deploy::find_database(deployment.discovery, options->database);
      auto repository = open_repository(deployment.global);
      repo::RepositoryLock lock(*repository, false);
      repository->load_index();
      if (!options->datadir.empty())
        return restore_point_in_time(deployment.global, database, *repository, *options);
      std::optional<int64_t> until;
      if (!options->until.empty()) {
        if (database.engine != deploy::Engine::mysql)
          throw Error("--until with --to is for MariaDB/MySQL (binlog replay); for PostgreSQL use --to-datadir", ExitCode::usage);
        until = parse_until(options->until);
      }
      std::vector<std::string> wanted = {"set=databases", "database=" + database.id};
      if (database.engine == deploy::Engine::postgresql) wanted.push_back("engine=postgresql");  // not a base backup
      if (database.engine == deploy::Engine::mysql) wanted.push_back("engine=mysql");  // not a mariadb-backup copy
      repo::Snapshot snapshot = until && options->snapshot == "latest"
                                    ? newest_before(*repository, wanted, *until, database)
                                    : repo::find_snapshot(*repository, options->snapshot, wanted);
      if (!snapshot.has_tag("database=" + database.id))
        throw Error("snapshot " + snapshot.id.short_hex() + " is not a backup of " + database.display_name());
      if (snapshot.has_tag("engine=postgresql-base") || snapshot.has_tag("engine=mariadb-physical"))
        throw Error("snapshot " + snapshot.id.short_hex() + " is a physical backup: restore it with --to-datadir");
      ops::DatabaseTarget target{options->to, options->user,
                            options->password_file.empty() ? std::string() : read_password_file(options->password_file)};
      db::RestoreOptions restore;
      restore.jobs = options->jobs;
      restore.drop_existing = options->drop_existing;
      auto start = std::chrono::steady_clock::now();
      if (until) ops::backup_binlog_position(*repository, snapshot);  // before anything is written
      ops::DatabaseRestoreOutcome outcome = ops::restore_database(*repository, database, snapshot, target, restore);
      std::optional<ops::BinlogReplay> replay;
      if (until) replay = ops::replay_binlog(*repository, database, snapshot, outcome.source, outcome.connection, *until);
      const db::RestoreReport& report = outcome.report;
      double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      uint64_t rows = 0;
      nlohmann::json tables = nlohmann::json::array();
      for (const auto& table : report.tables) {
        rows += table.rows;
        tables.push_back({{"name", table.name}, {"rows", table.rows}});
      }
      if (context.global.json) {
        std::cout << nlohmann::json{{"message_type", "restore_db"}, {"snapshot_id", snapshot.id.hex()},
                                    {"database", database.id}, {"target", outcome.target},
                                    {"tables", tables}, {"rows", rows}, {"duration_s", seconds},
                                    {"binlog_replay", replay ? nlohmann::json{{"from", replay->from}, {"until", replay->until},
                                                                              {"pieces", replay->pieces},
                                                                              {"bytes", replay->bytes}}
                                                             : nlohmann::json()}}
                         .dump()
                  << "\n";
      } else if (!context.global.quiet) {
        for (const auto& table : report.tables) std::cout << "  " << table.name << ": " << table.rows << " rows\n";
        std::cout << "restored " << database.display_name() << " from snapshot " << snapshot.id.short_hex() << " into "
                  << outcome.target << ": " << report.tables.size() << " tables, " << rows << " rows in "
                  << format_duration(seconds) << "\n";
        if (replay)
          std::cout << "replayed the archived binlog from " << replay->from << " up to " << replay->until << " ("
                    << replay->pieces << " pieces, " << format_bytes(replay->bytes) << ")\n";
      }
      return 0;
    };
  });
}

}  // namespace obkeep::cli
