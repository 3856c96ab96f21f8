// `obkeep binlog-archive --config FILE --database NAME`: streams a MariaDB/MySQL server's
// binary log into the repository until SIGTERM, for `restore-db --until`.
#include <iostream>

#include "cli/common.hpp"
#include "cli/deployment_context.hpp"
#include "ops/binlog_archiver.hpp"
#include "util/error.hpp"

namespace obkeep::cli {

void add_binlog_archive_command(CLI::App& app, Context& context) {
  auto* command = app.add_subcommand("binlog-archive",
                                     "stream a MariaDB/MySQL binary log into the repository until stopped (point in time)");
  struct Options {
    std::string database;
    ops::BinlogArchiverOptions archiver;
  };
  auto options = std::make_shared<Options>();
  command->add_option("--database", options->database, "datasource name or database as discover lists it")->required();
  command->add_option("--piece-seconds", options->archiver.piece_seconds,
                      "cut a piece this long after its first event (the recovery point objective; default 5)")
      ->check(CLI::Range(1, 3600));
  command->add_option("--confirm-every", options->archiver.confirm_seconds,
                      "seconds between the empty pieces that show an idle server's archive is current (default 60)")
      ->check(CLI::Range(1, 86400));
  command->add_option("--server-id", options->archiver.server_id,
                      "replica server id to use (default: derived from the database; must differ from every replica's)");
  command->add_option("--stop-after", options->archiver.stop_after_pieces, "stop after this many pieces (for tests)")
      ->check(CLI::Range(0, 1000000));
  command->callback([&context, options] {
    context.action = [&context, options] {
      DeploymentContext deployment = load_deployment(context.global, "binlog-archive");
      const deploy::Database& database = deploy::find_database(deployment.discovery, options->database);
      if (database.engine != deploy::Engine::mysql)
        throw Error("binlog-archive is for MariaDB/MySQL; " + database.display_name() + " is " +
                    deploy::to_string(database.engine));
      GlobalOptions global = deployment.global;
      ops::Log log = stderr_log(context.global);
      if (!context.global.quiet) std::cerr << "archiving the binary log of " << database.display_name() << "\n";
      ops::BinlogArchiverResult result = ops::run_binlog_archiver(
          [global] { return open_repository(global); }, database, options->archiver, log);
      if (context.global.json)
        std::cout << nlohmann::json{{"message_type", "binlog_archive"}, {"database", database.id},
                                    {"pieces", result.pieces}, {"bytes", result.bytes}}
                         .dump()
                  << "\n";
      else if (!context.global.quiet)
        std::cerr << "binlog archive of " << database.display_name() << " stopped: " << result.pieces << " pieces, "
                  << format_bytes(result.bytes) << "\n";
      return 0;
    };
  });
}

}  // namespace obkeep::cli
