// `obkeep backup PATH...`: one snapshot of the given paths. `obkeep backup --config FILE
// [--set …]`: a deployment backup — one snapshot per set and home and per database, then
// copies to the DR sites marked after_backup.
#include <iostream>

#include "cli/common.hpp"
#include "cli/deployment_context.hpp"
#include "ops/deployment_backup.hpp"
#include "repo/lock.hpp"
#include "util/error.hpp"
#include "util/host.hpp"

namespace obkeep::cli {

using nlohmann::json;

namespace {

struct BackupCommandOptions {
  std::vector<std::string> paths;
  std::vector<std::string> tags;
  std::vector<std::string> excludes;
  bool force = false;
  std::string time;  // RFC 3339; empty: now
  std::vector<std::string> sets;
  unsigned read_concurrency = 0;  // 0: two per core
};

// The live line (files, bytes, rate, ETA) while a path backup runs on a terminal.
ops::ProgressDisplay progress_display(const GlobalOptions& global) {
  return [global](const archiver::BackupProgress& progress) -> std::shared_ptr<void> {
    return std::make_shared<ProgressLine>(global, [&progress](double elapsed) {
      uint64_t bytes = progress.bytes_done, total = progress.bytes_total;
      double rate = elapsed > 0 ? bytes / elapsed : 0;
      std::string text = "[" + format_duration(elapsed) + "] " + std::to_string(progress.files_done.load()) + " / " +
                         std::to_string(progress.files_total.load()) + " files, " + format_bytes(bytes) + " / " +
                         format_bytes(total) + ", " + format_bytes(static_cast<uint64_t>(rate)) + "/s";
      // Unchanged files count as done at once, so the rate (and the ETA) is an estimate.
      if (progress.scan_finished && rate > 0 && total > bytes)
        text += ", ETA " + format_duration(static_cast<double>(total - bytes) / rate);
      else if (!progress.scan_finished)
        text += ", scanning";
      return text;
    });
  };
}

int backup_deployment(const GlobalOptions& given, const BackupCommandOptions& options) {
  if (!given.site.empty())
    throw Error("backup --config takes no --site: backups go to the primary repository; copy --config --site " +
                    given.site + " sends them to the site",
                ExitCode::usage);
  DeploymentContext deployment = load_deployment(given, "backup");
  const GlobalOptions& global = deployment.global;
  bool text = !global.quiet && !global.json;
  ops::DeploymentBackupOptions backup;
  backup.sets = options.sets;
  backup.force = options.force;
  backup.read_concurrency = options.read_concurrency;
  backup.display = progress_display(global);
  backup.on_backup_done = [text](const ops::SetBackupResult& done) {
    if (!text || !done.error.empty()) return;
    if (done.database_outcome) {
      const ops::DatabaseBackupOutcome& outcome = *done.database_outcome;
      std::cout << "databases  " << done.database->display_name() << " (" << done.database->id << "): snapshot "
                << outcome.snapshot.short_hex() << ", " << format_bytes(outcome.bytes) << ", "
                << outcome.report.consistency << "\n";
    } else {
      const ops::PathBackupOutcome& outcome = *done.paths_outcome;
      std::cout << done.set << (done.set == "artifacts" ? "  " : "   ") << done.paths.front() << ": snapshot "
                << outcome.snapshot.short_hex() << ", " << format_bytes(outcome.summary["bytes_added"].get<uint64_t>())
                << " added\n";
    }
  };
  backup.on_copy_done = [text](const ops::SiteCopyResult& copy) {
    if (text && copy.ok)
      std::cout << "copied to DR site " << copy.site << ": " << copy.outcome.statistics.snapshots_copied << " snapshots, "
                << format_bytes(copy.outcome.bytes_sent) << "\n";
  };
  ops::DeploymentBackupResult result =
      ops::backup_deployment(deployment.config, deployment.discovery, deployment.primary, backup, stderr_log(global));
  if (global.json) {
    json snapshots = json::array();
    for (const ops::SetBackupResult& done : result.backups) {
      json entry = {{"set", done.set}, {"tags", done.tags}};
      if (done.database) {
        entry["database"] = done.database->id;
        entry["datasources"] = done.database->datasources;
      } else {
        entry["home"] = done.home;
      }
      if (done.database_outcome) {
        entry["snapshot_id"] = done.database_outcome->snapshot.hex();
        entry["report"] = ops::report_json(done.database_outcome->report);
        entry["bytes_processed"] = done.database_outcome->bytes;
        entry["duration_s"] = done.database_outcome->duration_s;
      } else if (done.paths_outcome) {
        entry["snapshot_id"] = done.paths_outcome->snapshot.hex();
        entry["summary"] = done.paths_outcome->summary;
      }
      entry["ok"] = done.ok;
      if (!done.error.empty()) entry["error"] = done.error;
      snapshots.push_back(entry);
    }
    json copies = json::array();
    for (const ops::SiteCopyResult& copy : result.copies) {
      json entry = {{"site", copy.site}, {"ok", copy.ok}};
      if (copy.ok)
        entry.update({{"snapshots_copied", copy.outcome.statistics.snapshots_copied}, {"bytes_sent", copy.outcome.bytes_sent}});
      else
        entry["error"] = copy.error;
      copies.push_back(entry);
    }
    std::cout << json{{"message_type", "deployment_summary"}, {"snapshots", snapshots}, {"dr_copies", copies},
                      {"failed", result.failed}}
                     .dump()
              << "\n";
  } else if (!global.quiet) {
    std::cout << result.backups.size() - result.failed << " of " << result.backups.size() << " backups done";
    if (result.failed) std::cout << ", " << result.failed << " failed (named above)";
    if (result.copies_failed) std::cout << "; " << result.copies_failed << " DR copies failed (named above)";
    std::cout << "\n";
  }
  return result.exit_code();
}

int backup_paths(const GlobalOptions& global, const BackupCommandOptions& options) {
  auto repository = open_repository(global);
  repo::RepositoryLock lock(*repository, false, [&] { repository->load_index(); });
  ops::PathBackupRequest request{options.paths, options.tags, options.excludes, options.force, options.read_concurrency,
                                 options.time.empty() ? 0 : parse_rfc3339(options.time)};
  ops::PathBackupOutcome outcome = ops::backup_paths(*repository, request, stderr_log(global), progress_display(global));
  json summary = outcome.summary;
  summary["message_type"] = "summary";
  summary["snapshot_id"] = outcome.snapshot.hex();
  if (global.json) {
    std::cout << summary.dump() << "\n";
  } else if (!global.quiet) {
    const auto& r = outcome.result;
    std::cout << "Files: " << r.files_new << " new, " << r.files_changed << " changed, " << r.files_unmodified
              << " unmodified\n"
              << "Dirs:  " << r.dirs_new << " new, " << r.dirs_changed << " changed, " << r.dirs_unmodified
              << " unmodified\n"
              << "Added to the repository: " << format_bytes(summary["bytes_added"].get<uint64_t>()) << " ("
              << format_bytes(r.bytes_processed) << " processed in "
              << format_duration(summary["duration_s"].get<double>()) << ")\n"
              << "snapshot " << outcome.snapshot.short_hex() << " saved\n";
  }
  if (!outcome.result.errors.empty()) {
    std::cerr << "warning: " << outcome.result.errors.size()
              << " source entries could not be read; the snapshot lacks them\n";
    return static_cast<int>(ExitCode::partial);
  }
  return 0;
}

}  // namespace

void add_backup_command(CLI::App& app, Context& context) {
  auto* command = app.add_subcommand("backup", "back up paths (or a deployment with --config) as a snapshot");
  auto options = std::make_shared<BackupCommandOptions>();
  command->add_option("paths", options->paths, "files and directories to back up (with --config: into its repository)");
  command->add_option("--tag", options->tags, "tag the snapshot (repeatable)");
  command->add_option("--exclude", options->excludes, "exclude a glob pattern (repeatable)");
  command->add_flag("--force", options->force, "read every file, even unchanged ones");
  command->add_option("--time", options->time, "record this time (RFC 3339) instead of now");
  command->add_option("--read-concurrency", options->read_concurrency, "files read at once (default: two per core)")
      ->check(CLI::Range(1, 64));
  command->add_option("--set", options->sets, "with --config: databases, artifacts or instance (repeatable)");
  command->callback([&context, options] {
    context.action = [&context, options] {
      // With paths, --config only says which repository; without, it names the deployment.
      if (options->paths.empty() && !context.global.config.empty()) return backup_deployment(context.global, *options);
      if (!options->sets.empty())
        throw Error(context.global.config.empty() ? "--set needs --config" : "--set is for a deployment backup, without paths",
                    ExitCode::usage);
      if (options->paths.empty()) throw Error("backup needs at least one path (or --config)", ExitCode::usage);
      return backup_paths(context.global, *options);
    };
  });
}

}  // namespace obkeep::cli
