// `obkeep restore-db SNAPSHOT --config FILE --database NAME --to JDBC_URL`: restore one
// database's backup into the database the URL names (created when absent).
#include <chrono>
#include <filesystem>
#include <iostream>

#include "cli/common.hpp"
#include "cli/database_backup.hpp"
#include "cli/deployment_context.hpp"
#include "db/repository_dump_store.hpp"
#include "deploy/jdbc_url.hpp"
#include "repo/lock.hpp"
#include "repo/snapshot.hpp"
#include "util/error.hpp"

namespace obkeep::cli {

void add_restore_db_command(CLI::App& app, Context& context) {
  auto* command = app.add_subcommand("restore-db", "restore a database backup into a database");
  struct Options {
    std::string snapshot = "latest", config, database, to, user, password_file, until;
    int jobs = 2;
    bool drop_existing = false;
  };
  auto options = std::make_shared<Options>();
  command->add_option("snapshot", options->snapshot, "snapshot id, prefix, or latest (the newest of that database)");
  command->add_option("--config", options->config, "deployment config (obkeep.toml)")->required();
  command->add_option("--database", options->database, "datasource name (WSO2AM_DB) or database as discover lists it")->required();
  command->add_option("--to", options->to, "JDBC URL of the target database (created when absent)")->required();
  command->add_option("--user", options->user, "target user (default: the source datasource's)");
  command->add_option("--password-file", options->password_file, "target password (default: the source datasource's)");
  command->add_option("--jobs", options->jobs, "parallel workers")->check(CLI::Range(1, 64));
  command->add_flag("--drop-existing", options->drop_existing, "replace a target database that already has tables");
  command->add_option("--until", options->until, "point in time (RFC 3339) to recover to");
  command->callback([&context, options] {
    context.action = [&context, options] {
      if (!options->until.empty())
        throw Error("--until: point-in-time recovery needs a WAL archive, which this version of obkeep does not keep yet");
      DeploymentContext deployment = load_deployment(context.global, options->config);
      const deploy::Database& database = deploy::find_database(deployment.discovery, options->database);
      auto repository = open_repository(deployment.global);
      repo::RepositoryLock lock(*repository, false);
      repository->load_index();
      repo::Snapshot snapshot = repo::find_snapshot(*repository, options->snapshot, {"database=" + database.id});
      if (!snapshot.has_tag("database=" + database.id))
        throw Error("snapshot " + snapshot.id.short_hex() + " is not a backup of " + database.display_name());
      std::string engine_name;
      db::ConnectionInfo source = connection_for(database, engine_name);
      deploy::JdbcUrl url = deploy::parse_jdbc_url(options->to, std::filesystem::current_path().string());
      if (url.engine == deploy::Engine::unknown) throw Error("--to: " + url.reason);
      if (url.engine != database.engine && engine_name != "hook")
        throw Error(std::string("--to names a ") + deploy::to_string(url.engine) + " database but " +
                    database.display_name() + " is " + deploy::to_string(database.engine));
      db::ConnectionInfo target = source;
      target.host = url.host;
      target.port = url.port.value_or(0);
      target.database = url.database;
      if (!options->user.empty()) target.user = options->user;
      if (!options->password_file.empty()) target.password = read_password_file(options->password_file);
      // Whether the source's server runs says nothing about the target; engines check the
      // target itself (H2: its lock file and file locks).
      target.options.erase("server_running");
      for (const auto& [key, value] : url.options) target.options[key] = value;
      auto engine = db::make_engine(engine_name);
      db::RepositoryDumpSource dump(*repository, snapshot.tree);
      db::RestoreOptions restore;
      restore.jobs = options->jobs;
      restore.drop_existing = options->drop_existing;
      auto start = std::chrono::steady_clock::now();
      db::RestoreReport report = engine->restore(dump, target, restore);
      double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      uint64_t rows = 0;
      nlohmann::json tables = nlohmann::json::array();
      for (const auto& table : report.tables) {
        rows += table.rows;
        tables.push_back({{"name", table.name}, {"rows", table.rows}});
      }
      if (context.global.json) {
        std::cout << nlohmann::json{{"message_type", "restore_db"}, {"snapshot_id", snapshot.id.hex()},
                                    {"database", database.id}, {"target", target.describe()},
                                    {"tables", tables}, {"rows", rows}, {"duration_s", seconds}}
                         .dump()
                  << "\n";
      } else if (!context.global.quiet) {
        for (const auto& table : report.tables) std::cout << "  " << table.name << ": " << table.rows << " rows\n";
        std::cout << "restored " << database.display_name() << " from snapshot " << snapshot.id.short_hex() << " into "
                  << target.describe() << ": " << report.tables.size() << " tables, " << rows << " rows in "
                  << format_duration(seconds) << "\n";
      }
      return 0;
    };
  });
}

}  // namespace obkeep::cli
