// `restore-db --to-datadir` for MariaDB/MySQL: the newest of the mariadb-backup copy and the
// logical backup before the target, then the archived binlog.
#include <filesystem>
#include <iostream>

#include "cli/restore_db.hpp"
#include "db/data_directory.hpp"
#include "db/mariadb/mariadb_scratch_server.hpp"
#include "db/repository_dump_store.hpp"
#include "ops/binlog_replay.hpp"
#include "ops/database_backup.hpp"
#include "ops/database_restore.hpp"
#include "util/error.hpp"
#include "util/format.hpp"
#include "util/host.hpp"

namespace obkeep::cli {

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

}  // namespace obkeep::cli
