// `obkeep base-backup --config FILE --database NAME`: a physical backup — of a PostgreSQL
// cluster (pg_basebackup), the starting point of WAL replay, or of a MariaDB server
// (mariadb-backup), restored by copy instead of a logical load (docs/database-dumps.md).
#include <iostream>

#include "cli/common.hpp"
#include "repo/tree.hpp"
#include "ops/database_backup.hpp"
#include "cli/deployment_context.hpp"
#include "repo/lock.hpp"
#include "util/error.hpp"

namespace obkeep::cli {

void add_base_backup_command(CLI::App& app, Context& context) {
  auto* command = app.add_subcommand("base-backup", "physical backup of a PostgreSQL cluster (pg_basebackup) or a MariaDB server (mariadb-backup)");
  struct Options {
    std::string database;
    std::string stanza = "main";
  };
  auto options = std::make_shared<Options>();
  command->add_option("--database", options->database, "datasource name or database as discover lists it")->required();
  command->add_option("--stanza", options->stanza,
                      "PostgreSQL: the WAL archive this cluster pushes to (wal-push --stanza), whose older files "
                      "retention removes once no kept base backup needs them (default main)");
  command->callback([&context, options] {
    context.action = [&context, options] {
      DeploymentContext deployment = load_deployment(context.global, "base-backup");
      const deploy::Database& database = deploy::find_database(deployment.discovery, options->database);
      std::string engine = database.engine == deploy::Engine::postgresql ? "postgresql-base"
                           : database.engine == deploy::Engine::mysql    ? "mariadb-physical"
                                                                         : "";
      if (engine.empty())
        throw Error("base-backup is for PostgreSQL and MariaDB; " + database.display_name() + " is " +
                    deploy::to_string(database.engine));
      if (!repo::is_safe_name(options->stanza)) throw Error("not a stanza name: " + options->stanza, ExitCode::usage);
      std::vector<std::string> tags = {"set=databases", "database=" + database.id};
      if (database.engine == deploy::Engine::postgresql) tags.push_back("stanza=" + options->stanza);
      auto repository = open_repository(deployment.global);
      repo::RepositoryLock lock(*repository, false, [&] { repository->load_index(); });
      ops::DatabaseBackupOutcome outcome = ops::backup_database(*repository, database, tags, 1, engine);
      for (const auto& warning : outcome.report.warnings) std::cerr << "warning: " << warning << "\n";
      if (context.global.json) {
        std::cout << nlohmann::json{{"message_type", "base_backup"}, {"snapshot_id", outcome.snapshot.hex()},
                                    {"database", database.id}, {"bytes_processed", outcome.bytes},
                                    {"duration_s", outcome.duration_s}}
                         .dump()
                  << "\n";
      } else if (!context.global.quiet) {
        std::cout << "base backup of " << database.display_name() << ": snapshot " << outcome.snapshot.short_hex() << ", "
                  << format_bytes(outcome.bytes) << " in " << format_duration(outcome.duration_s) << "\n";
      }
      return 0;
    };
  });
}

}  // namespace obkeep::cli
