// `obkeep backup PATH...`: one snapshot of the given paths.
#include <chrono>
#include <iostream>

#include "archiver/backup.hpp"
#include "cli/backup_run.hpp"
#include "cli/common.hpp"
#include "repo/lock.hpp"
#include "util/error.hpp"

namespace obkeep::cli {

void add_backup_command(CLI::App& app, Context& context) {
  auto* command = app.add_subcommand("backup", "back up paths (or a deployment with --config) as a snapshot");
  auto options = std::make_shared<BackupCommandOptions>();
  command->add_option("paths", options->paths, "files and directories to back up");
  command->add_option("--tag", options->tags, "tag the snapshot (repeatable)");
  command->add_option("--exclude", options->excludes, "exclude a glob pattern (repeatable)");
  command->add_flag("--force", options->force, "read every file, even unchanged ones");
  command->add_option("--time", options->time, "record this time (RFC 3339) instead of now");
  command->add_option("--read-concurrency", options->read_concurrency, "files read at once (default: two per core)")
      ->check(CLI::Range(1, 64));
  command->add_option("--config", options->config, "deployment config (obkeep.toml)");
  command->add_option("--set", options->sets, "with --config: databases, artifacts or instance (repeatable)");
  command->callback([&context, options] {
    context.action = [&context, options] { return run_backup_command(context.global, *options); };
  });
}

}  // namespace obkeep::cli
