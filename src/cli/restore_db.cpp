// `obkeep restore-db SNAPSHOT --config FILE --database NAME --to JDBC_URL`: restore one
// database's backup into the database the URL names (created when absent).
// `--to-datadir DIR [--until TIME]`: restore a PostgreSQL base backup into a new data
// directory that replays archived WAL up to TIME when the server starts (or, when newer, a
// logical backup loaded into a new cluster there); for MariaDB, the newest of its
// mariadb-backup copy and its logical backup, then the archived binlog.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <optional>

#include "cli/common.hpp"
#include "db/data_directory.hpp"
#include "ops/database_backup.hpp"
#include "db/mariadb/mariadb_scratch_server.hpp"
#include "db/mariadb/gtid.hpp"
#include "db/postgres/wal_file.hpp"
#include "ops/binlog_replay.hpp"
#include "ops/wal_reach.hpp"
#include "ops/database_restore.hpp"
#include "ops/postgres_new_cluster.hpp"
#include "cli/deployment_context.hpp"
#include "db/repository_dump_store.hpp"
#include "deploy/jdbc_url.hpp"
#include "repo/lock.hpp"
#include "repo/snapshot.hpp"
#include "util/host.hpp"
#include "util/error.hpp"

namespace obkeep::cli {

namespace {

struct RestoreDbCommandOptions {
  std::string snapshot = "latest", database, to, user, password_file, until, until_gtid, datadir, stanza = "main";
  int jobs = 2;
  size_t wal_prefetch = 8;
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

// --until or --until-gtid, as where a binlog replay stops; nullopt with neither.
std::optional<ops::BinlogTarget> binlog_target(const RestoreDbCommandOptions& options) {
  if (!options.until_gtid.empty()) {
    std::optional<db::Gtid> gtid = db::parse_gtid(options.until_gtid);
    if (!gtid) throw Error("--until-gtid: not a GTID: " + options.until_gtid + " (e.g. 0-1-105)", ExitCode::usage);
    return ops::BinlogTarget{0, gtid};
  }
  if (!options.until.empty()) return ops::BinlogTarget{parse_until(options.until), std::nullopt};
  return std::nullopt;
}

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

bool has_tags(const repo::Snapshot& snapshot, const std::vector<std::string>& tags) {
  for (const std::string& tag : tags)
    if (!snapshot.has_tag(tag)) return false;
  return true;
}

// The newest backup with `tags` before the target (any, without one); nullopt when none is.
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

// The same, or an Error saying why there is none.
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

// MariaDB into a new data directory, by the faster path to the requested point: the newest
// mariadb-backup copy before it, extracted and prepared (a copy, where a logical load
// rebuilds every index), unless a logical backup is newer (less binlog to replay, or the
// only point there is): then a new server's files with that backup loaded. With --until,
// the archived binlog is replayed on top, on a private server. Says which path it took.
int restore_mariadb_datadir(const GlobalOptions& global, const deploy::Database& database, repo::Repository& repository,
                            const RestoreDbCommandOptions& options) {
  const std::vector<std::string> physical_tags = {"database=" + database.id, "engine=mariadb-physical"};
  const std::vector<std::string> logical_tags = {"set=databases", "database=" + database.id, "engine=mysql"};
  std::optional<ops::BinlogTarget> until = binlog_target(options);
  bool latest = options.snapshot == "latest";
  std::vector<repo::Snapshot> snapshots =
      latest || until ? repo::list_snapshots(repository) : std::vector<repo::Snapshot>{};
  repo::Snapshot backup;
  if (!latest) {
    backup = repo::find_snapshot(repository, options.snapshot, {"database=" + database.id});
    if (!has_tags(backup, physical_tags) && !has_tags(backup, logical_tags))
      throw Error("snapshot " + backup.id.short_hex() + " is neither a physical nor a logical backup of " +
                  database.display_name());
  } else {
    std::optional<repo::Snapshot> physical = newest_matching(snapshots, physical_tags, until);
    std::optional<repo::Snapshot> logical = newest_matching(snapshots, logical_tags, until);
    if (!physical && !logical) {
      if (until) newest_before(snapshots, physical_tags, *until, database);  // throws, naming the oldest
      throw Error("no backup of " + database.display_name() + " (obkeep base-backup or backup --set databases takes one)");
    }
    backup = physical && (!logical || physical->time_ns >= logical->time_ns) ? *physical : *logical;
  }
  bool is_physical = has_tags(backup, physical_tags);
  std::optional<ops::BinlogReplayPlan> plan;  // refused before anything is written
  if (until) plan = ops::plan_binlog_replay(repository, database, backup, *until, snapshots);
  std::string data_directory = std::filesystem::absolute(options.datadir).string();
  std::string engine;
  db::ConnectionInfo source = ops::connection_for(database, engine);
  std::optional<ops::BinlogReplay> replay;
  std::string loaded;
  db::NewDataDirectory target(data_directory);  // emptied again if anything below fails
  if (is_physical) {
    db::RestoreOptions restore;
    restore.data_directory = data_directory;
    db::RepositoryDumpSource dump(repository, backup.tree);
    db::make_engine("mariadb-physical")->restore(dump, db::ConnectionInfo{}, restore);
  }
  if (!is_physical || until) {
    if (!is_physical) db::MariadbScratchServer::initialize(data_directory);
    db::MariadbScratchServer server(data_directory);
    server.start(300);
    if (!is_physical) {
      db::RestoreOptions restore;
      restore.jobs = options.jobs;
      ops::DatabaseRestoreOutcome outcome =
          ops::restore_database_into(repository, database, backup, server.connection(source.database), restore);
      uint64_t rows = 0;
      for (const auto& table : outcome.report.tables) rows += table.rows;
      loaded = std::to_string(outcome.report.tables.size()) + " tables, " + std::to_string(rows) + " rows";
    }
    if (until) replay = ops::replay_binlog(repository, database, *plan, source, server.connection(source.database));
    server.stop();
  }
  target.keep();
  if (!global.quiet) {
    std::string when = format_rfc3339(backup.time_ns).substr(0, 19);
    if (is_physical)
      std::cout << "path: physical: mariadb-backup " << backup.id.short_hex() << " of " << when
                << ", the newest recovery point" << (until ? " before the target" : "") << "\n"
                << "restored physical backup " << backup.id.short_hex() << " of " << database.display_name() << " into "
                << data_directory << ", prepared: start mariadbd --datadir=" << data_directory << "\n";
    else
      std::cout << "path: logical: snapshot " << backup.id.short_hex() << " of " << when
                << (latest ? ", newer than any physical backup" : ", as asked")
                << (until ? " before the target" : "") << "\n"
                << "restored " << database.display_name() << " from snapshot " << backup.id.short_hex()
                << " into a new data directory " << data_directory << " (" << loaded
                << "; users and grants are not in a logical backup): start mariadbd --datadir=" << data_directory << "\n";
    if (replay)
      std::cout << "replayed the archived binlog from " << replay->from << " up to " << replay->until << " ("
                << replay->pieces << " pieces, " << format_bytes(replay->bytes) << ")\n";
  }
  return 0;
}

// Before anything is written: a target past the WAL archive's end would leave PostgreSQL
// failing at that end, after the whole base backup was extracted.
void refuse_past_the_archive(repo::Repository& repository, const repo::Snapshot& base, const std::string& stanza,
                             int64_t until) {
  std::optional<ops::WalBase> wal = ops::wal_base_of(base);
  if (!wal) return;  // taken by an older obkeep: where its replay starts is not recorded
  wal->stanza = stanza;
  std::string start = db::wal_segment_name(wal->timeline, wal->start_segment, wal->segment_bytes);
  std::optional<ops::WalReach> reach = ops::wal_reach(repository, *wal);
  if (!reach)
    throw Error("the WAL archive (stanza " + stanza + ") lacks " + start + ", where a recovery from base backup " +
                base.id.short_hex() + " starts: it reaches only the base backup's end, " + format_rfc3339(base.time_ns));
  if (!reach->later_timeline && reach->archived_ns && until > reach->archived_ns)
    throw Error("--until " + format_rfc3339(until) + " is past the end of the WAL archive (stanza " + stanza +
                "): from base backup " + base.id.short_hex() + " the reachable points are " + format_rfc3339(base.time_ns) +
                " to " + format_rfc3339(reach->archived_ns) + " (" + reach->last_file + ", the newest archived segment)");
}

// How far a base backup recovers: through the WAL archive of `stanza` when it holds the
// base's start, else the backup's own time.
int64_t base_recovery_point(repo::Repository& repository, const repo::Snapshot& base, const std::string& stanza) {
  std::optional<ops::WalBase> wal = ops::wal_base_of(base);
  if (!wal) return base.time_ns;
  wal->stanza = stanza;
  std::optional<ops::WalReach> reach = ops::wal_reach(repository, *wal);
  return reach ? std::max(base.time_ns, reach->archived_ns) : base.time_ns;
}

// A PostgreSQL logical backup as a new cluster's files (ops/postgres_new_cluster.hpp).
int restore_postgres_new_cluster(const GlobalOptions& global, const deploy::Database& database, repo::Repository& repository,
                                 const repo::Snapshot& backup, const RestoreDbCommandOptions& options, const std::string& why) {
  std::string data_directory = std::filesystem::absolute(options.datadir).string();
  ops::NewClusterRestore restored = ops::restore_as_new_cluster(repository, database, backup, data_directory, options.jobs);
  if (!global.quiet)
    std::cout << "path: logical: snapshot " << backup.id.short_hex() << " of " << format_rfc3339(backup.time_ns).substr(0, 19)
              << ", " << why << "\n"
              << "restored " << database.display_name() << " from snapshot " << backup.id.short_hex()
              << " into a new cluster's data directory " << data_directory << " (PostgreSQL " << restored.server_version << ", "
              << restored.tables << " tables, " << restored.rows << " rows, owned by role " << restored.owner
              << "; passwords and other roles are not in a logical backup): start it with pg_ctl -D " << data_directory << "\n";
  return 0;
}

int restore_point_in_time(const GlobalOptions& global, const deploy::Database& database, repo::Repository& repository,
                          const RestoreDbCommandOptions& options) {
  if (database.engine == deploy::Engine::mysql) return restore_mariadb_datadir(global, database, repository, options);
  if (database.engine != deploy::Engine::postgresql)
    throw Error("--to-datadir is for PostgreSQL and MariaDB; " + database.display_name() + " is " +
                deploy::to_string(database.engine));
  if (!options.until_gtid.empty())
    throw Error("--until-gtid is for MariaDB/MySQL; for PostgreSQL use --until TIME", ExitCode::usage);
  int64_t until = options.until.empty() ? INT64_MAX : parse_until(options.until);
  std::vector<std::string> tags = {"database=" + database.id, "engine=postgresql-base"};
  const std::vector<std::string> logical_tags = {"set=databases", "database=" + database.id, "engine=postgresql"};
  std::optional<repo::Snapshot> base, logical;
  if (options.snapshot == "latest") {
    std::optional<int64_t> oldest;
    for (repo::Snapshot& snapshot : repo::list_snapshots(repository)) {  // oldest first
      if (has_tags(snapshot, logical_tags)) logical = snapshot;
      if (!snapshot.has_tag(tags[0]) || !snapshot.has_tag(tags[1])) continue;
      if (!oldest) oldest = snapshot.time_ns;
      if (snapshot.time_ns <= until) base = std::move(snapshot);
    }
    // Without --until, the newest recovery point: a logical backup newer than where the
    // newest base backup's WAL reaches is loaded into a new cluster instead.
    if (options.until.empty() && logical) {
      std::optional<int64_t> reach = base ? std::optional(base_recovery_point(repository, *base, options.stanza)) : std::nullopt;
      if (!reach || logical->time_ns > *reach)
        return restore_postgres_new_cluster(global, database, repository, *logical, options,
                                            reach ? "newer than base backup " + base->id.short_hex() + "'s newest point, " +
                                                        format_rfc3339(*reach).substr(0, 19)
                                                  : "no base backup");
    }
    if (!base)
      throw Error("no base backup of " + database.display_name() +
                  (options.until.empty() ? "" : " taken before " + options.until) +
                  (oldest ? ": the oldest point reachable is " + format_rfc3339(*oldest) + ", the oldest base backup's time"
                          : " (obkeep base-backup takes one)"));
  } else {
    base = repo::find_snapshot(repository, options.snapshot, {"database=" + database.id});
    if (has_tags(*base, logical_tags) && options.until.empty())
      return restore_postgres_new_cluster(global, database, repository, *base, options, "as asked");
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
                        shell_quote(options.stanza);
  // The segments ahead are fetched while the server replays one: a remote repository's
  // round trips stop adding up. The spool lives in the data directory, the server's own.
  std::string data_directory = std::filesystem::absolute(options.datadir).string();
  if (options.wal_prefetch > 0)
    command += " --prefetch " + std::to_string(options.wal_prefetch) + " --spool " +
               shell_quote(data_directory + "/obkeep-wal-prefetch");
  command += " %f %p";
  if (!options.until.empty()) refuse_past_the_archive(repository, *base, options.stanza, until);
  db::NewDataDirectory target(data_directory);  // emptied again if the extraction fails
  db::RestoreOptions restore;
  restore.data_directory = data_directory;
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
  target.keep();
  if (!global.quiet)
    std::cout << "path: physical: base backup " << base->id.short_hex() << " of " << format_rfc3339(base->time_ns).substr(0, 19)
              << (options.snapshot == "latest" ? ", the newest recovery point" : ", as asked") << "\n"
              << "restored base backup " << base->id.short_hex() << " of " << database.display_name() << " into "
              << restore.data_directory << "; when started, PostgreSQL replays archived WAL (stanza " << options.stanza
              << ") " << (options.until.empty() ? "to its end" : "up to " + options.until + " and promotes") << "\n";
  return 0;
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
      auto repository = open_repository(deployment.global);
      repo::RepositoryLock lock(*repository, false);
      repository->load_index();
      if (!options->datadir.empty())
        return restore_point_in_time(deployment.global, database, *repository, *options);
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
