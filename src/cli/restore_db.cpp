// `obkeep restore-db SNAPSHOT --config FILE --database NAME --to JDBC_URL`: restore one
// database's backup into the database the URL names (created when absent).
// `--to-datadir DIR [--until TIME]`: restore a PostgreSQL base backup into a new data
// directory that replays archived WAL up to TIME when the server starts (or, when newer, a
// logical backup loaded into a new cluster there: restore_db_postgres.cpp); for MariaDB,
// the newest of its mariadb-backup copy and its logical backup, then the archived binlog
// (restore_db_mariadb.cpp).
#include <iostream>
#include <optional>

#include "cli/deployment_context.hpp"
#include "cli/restore_db.hpp"
#include "db/mariadb/gtid.hpp"
#include "deploy/jdbc_url.hpp"
#include "ops/binlog_replay.hpp"
#include "ops/database_restore.hpp"
#include "repo/lock.hpp"
#include "repo/snapshot.hpp"
#include "util/error.hpp"
#include "util/format.hpp"
#include "util/host.hpp"

namespace obkeep::cli {

int64_t parse_until(const std::string& text) {
  try {
    return parse_rfc3339(text);
  } catch (const Error&) {
    throw Error("--until: not an RFC 3339 time: " + text + " (e.g. 2026-11-25T14:03:00Z)", ExitCode::usage);
  }
}

std::optional<ops::BinlogTarget> binlog_target(const RestoreDbCommandOptions& options) {
  if (!options.until_gtid.empty()) {
    std::optional<db::Gtid> gtid = db::parse_gtid(options.until_gtid);
    if (!gtid) throw Error("--until-gtid: not a GTID: " + options.until_gtid + " (e.g. 0-1-105)", ExitCode::usage);
    return ops::BinlogTarget{0, gtid};
  }
  if (!options.until.empty()) return ops::BinlogTarget{parse_until(options.until), std::nullopt};
  return std::nullopt;
}

namespace {

// Whether a backup lies before a GTID: its recorded GTID position holds an earlier
// transaction of that domain, or none.
bool before_gtid(const repo::Snapshot& backup, const db::Gtid& gtid) {
  const nlohmann::json& binlog = backup.summary.value("binlog", nlohmann::json());
  if (!binlog.is_object() || !binlog.contains("gtid") || !binlog["gtid"].is_string()) return false;
  std::optional<db::GtidPosition> position = db::parse_gtid_position(binlog["gtid"].get<std::string>());
  if (!position) return false;
  auto found = position->find(gtid.domain);
  return found == position->end() || found->second.sequence < gtid.sequence;
}

}  // namespace

bool has_tags(const repo::Snapshot& snapshot, const std::vector<std::string>& tags) {
  for (const std::string& tag : tags)
    if (!snapshot.has_tag(tag)) return false;
  return true;
}

std::optional<repo::Snapshot> newest_matching(const std::vector<repo::Snapshot>& snapshots,
                                              const std::vector<std::string>& tags,
                                              const std::optional<ops::BinlogTarget>& target) {
  std::optional<repo::Snapshot> newest;
  for (const repo::Snapshot& snapshot : snapshots)  // oldest first
    if (has_tags(snapshot, tags) &&
        (!target || (target->gtid ? before_gtid(snapshot, *target->gtid) : snapshot.time_ns <= target->until_ns)))
      newest = snapshot;
  return newest;
}

repo::Snapshot newest_before(const std::vector<repo::Snapshot>& snapshots, const std::vector<std::string>& tags,
                             const ops::BinlogTarget& target, const deploy::Database& database) {
  if (std::optional<repo::Snapshot> newest = newest_matching(snapshots, tags, target)) return *newest;
  if (target.gtid)
    throw Error("no backup of " + database.display_name() + " records a GTID position before " + target.describe() +
                " (backups record one when the server's binary log is on)");
  std::optional<repo::Snapshot> oldest;
  for (const repo::Snapshot& snapshot : snapshots)
    if (!oldest && has_tags(snapshot, tags)) oldest = snapshot;
  throw Error("no backup of " + database.display_name() + " taken before " + format_rfc3339(target.until_ns) +
              (oldest ? ": the oldest kept is of " + format_rfc3339(oldest->time_ns) : ""));
}

namespace {

// A MariaDB physical backup among `snapshots` newer than `logical`, which --to cannot use
// (it loads into a running server): the operator may prefer --to-datadir. nullopt when none is.
std::optional<repo::Snapshot> newer_physical(const std::vector<repo::Snapshot>& snapshots, const deploy::Database& database,
                                             const repo::Snapshot& logical) {
  if (database.engine != deploy::Engine::mysql) return std::nullopt;
  std::optional<repo::Snapshot> physical =
      newest_matching(snapshots, {"database=" + database.id, "engine=mariadb-physical"}, std::nullopt);
  if (!physical || physical->time_ns <= logical.time_ns) return std::nullopt;
  return physical;
}

// Into a new data directory, by the engine's own paths.
int restore_datadir(const GlobalOptions& global, const deploy::Database& database, repo::Repository& repository,
                    const RestoreDbCommandOptions& options) {
  if (database.engine == deploy::Engine::mysql) return restore_mariadb_datadir(global, database, repository, options);
  if (database.engine != deploy::Engine::postgresql)
    throw Error("--to-datadir is for PostgreSQL and MariaDB; " + database.display_name() + " is " +
                deploy::to_string(database.engine));
  return restore_postgres_datadir(global, database, repository, options);
}

}  // namespace

void add_restore_db_command(CLI::App& app, Context& context) {
  auto* command = app.add_subcommand("restore-db", "restore a database backup into a database");
  auto options = std::make_shared<RestoreDbCommandOptions>();
  command->add_option("snapshot", options->snapshot, "snapshot id, prefix, or latest (the newest of that database)");
  command->add_option("--database", options->database, "datasource name (WSO2AM_DB) or database as discover lists it")->required();
  command->add_option("--to", options->to, "JDBC URL of the target database (created when absent)");
  command->add_option("--to-datadir", options->datadir,
                      "a new data directory: from the newest of the database's physical and logical backups (PostgreSQL: a "
                      "base backup then WAL replay, or a dump loaded into a new cluster; MariaDB: then the binlog)");
  command->add_option("--stanza", options->stanza, "with --to-datadir: the WAL archive's stanza (default main)");
  command->add_option("--wal-prefetch", options->wal_prefetch,
                      "with --to-datadir: WAL segments the server's restore_command keeps fetched ahead (default 8; 0: none)")
      ->check(CLI::Range(0, 256));
  command->add_option("--user", options->user, "target user (default: the source datasource's)");
  command->add_option("--password-file", options->password_file, "target password (default: the source datasource's)");
  command->add_option("--jobs", options->jobs, "parallel workers")->check(CLI::Range(1, 64));
  command->add_flag("--drop-existing", options->drop_existing, "replace a target database that already has tables");
  command->add_option("--until", options->until,
                      "point in time (RFC 3339) to recover to: PostgreSQL with --to-datadir (WAL), MariaDB/MySQL with --to "
                      "(the newest backup before it, then the archived binlog)");
  command->add_option("--until-gtid", options->until_gtid,
                      "MariaDB/MySQL: recover through this transaction (a GTID, 0-1-105): the newest backup before it, "
                      "then the archived binlog")
      ->excludes("--until");
  command->callback([&context, options] {
    context.action = [&context, options] {
      if (options->to.empty() == options->datadir.empty())
        throw Error("restore-db needs --to JDBC_URL (a logical restore) or --to-datadir DIR (PostgreSQL point in time)",
                    ExitCode::usage);
      if (!options->datadir.empty() && !context.global.site.empty())
        throw Error("--to-datadir takes no --site: the restored server fetches WAL from the primary repository", ExitCode::usage);
      DeploymentContext deployment = load_deployment(context.global, "restore-db");
      const deploy::Database& database = deploy::find_database(deployment.discovery, options->database);
      auto repository = open_repository(deployment.global, {storage::FileType::index, storage::FileType::snapshot});
      repo::RepositoryLock lock(*repository, false, [&] { repository->load_index(); });
      if (!options->datadir.empty())
        return restore_datadir(deployment.global, database, *repository, *options);
      std::optional<ops::BinlogTarget> until = binlog_target(*options);
      if (until && database.engine != deploy::Engine::mysql)
        throw Error(std::string(until->gtid ? "--until-gtid" : "--until") +
                        " with --to is for MariaDB/MySQL (binlog replay); for PostgreSQL use --to-datadir",
                    ExitCode::usage);
      std::vector<std::string> wanted = {"set=databases", "database=" + database.id};
      if (database.engine == deploy::Engine::postgresql) wanted.push_back("engine=postgresql");  // not a base backup
      if (database.engine == deploy::Engine::mysql) wanted.push_back("engine=mysql");  // not a mariadb-backup copy
      // Listed once: for the binlog replay, and for MariaDB to name a newer physical backup.
      std::vector<repo::Snapshot> snapshots = until || database.engine == deploy::Engine::mysql
                                                  ? repo::list_snapshots(*repository)
                                                  : std::vector<repo::Snapshot>{};
      repo::Snapshot snapshot = until && options->snapshot == "latest"
                                    ? newest_before(snapshots, wanted, *until, database)
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
      std::optional<ops::BinlogReplayPlan> plan;  // refused before anything is written
      if (until) plan = ops::plan_binlog_replay(*repository, database, snapshot, *until, snapshots);
      ops::DatabaseRestoreOutcome outcome = ops::restore_database(*repository, database, snapshot, target, restore);
      std::optional<ops::BinlogReplay> replay;
      if (plan) replay = ops::replay_binlog(*repository, database, *plan, outcome.source, outcome.connection);
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
        if (std::optional<repo::Snapshot> physical = newer_physical(snapshots, database, snapshot))
          std::cout << "path: logical (physical backup " << physical->id.short_hex() << " of "
                    << format_rfc3339(physical->time_ns).substr(0, 19)
                    << " is newer: restore-db --to-datadir recovers it, then the binlog, as a new server's files)\n";
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
