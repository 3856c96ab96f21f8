// The backup of paths as a snapshot, with progress, summary and exit code.
#include "cli/backup_run.hpp"

#include <chrono>
#include <iostream>

#include "cli/common.hpp"
#include "cli/deployment_context.hpp"
#include "repo/lock.hpp"
#include "repo/snapshot.hpp"
#include "util/error.hpp"
#include "util/host.hpp"

namespace obkeep::cli {

using nlohmann::json;

PathBackupOutcome backup_paths_as_snapshot(const GlobalOptions& global, repo::Repository& repository,
                                           const PathBackupRequest& request) {
  auto start = std::chrono::steady_clock::now();
  int64_t start_time = request.time_ns ? request.time_ns : now_unix_nanos();
  const std::vector<std::string>& tags = request.tags;
  const std::vector<std::string>& excludes = request.excludes;
  archiver::BackupOptions options;
  options.paths = request.paths;
  options.excludes = excludes;
  options.force = request.force;
  options.workers = request.read_concurrency;
  std::vector<std::string> absolute;
  for (const std::string& path : request.paths) absolute.push_back(archiver::absolute_path(path));
  options.parent = archiver::find_parent(repo::list_snapshots(repository), absolute, {});

  uint64_t added_before = repository.statistics().bytes_stored;
  archiver::BackupProgress progress;
  archiver::BackupResult result;
  {
    ProgressLine line(global, [&](double elapsed) {
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
    result = archiver::backup_paths(repository, options, &progress);
    repository.flush();
  }
  double duration = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  uint64_t bytes_added = repository.statistics().bytes_stored - added_before;

  json summary = {{"files_new", result.files_new},
                  {"files_changed", result.files_changed},
                  {"files_unmodified", result.files_unmodified},
                  {"dirs_new", result.dirs_new},
                  {"dirs_changed", result.dirs_changed},
                  {"dirs_unmodified", result.dirs_unmodified},
                  {"bytes_processed", result.bytes_processed},
                  {"bytes_added", bytes_added},
                  {"errors", result.errors.size()},
                  {"changed_while_reading", result.changed_while_reading.size()},
                  {"duration_s", duration}};
  repo::Snapshot snapshot;
  snapshot.time_ns = start_time;
  snapshot.tree = result.tree;
  if (options.parent) snapshot.parent = options.parent->id;
  snapshot.paths = result.paths;
  snapshot.tags = tags;
  snapshot.excludes = excludes;
  snapshot.hostname = hostname();
  snapshot.username = username();
  snapshot.program_version = std::string("obkeep ") + OBKEEP_VERSION;
  snapshot.summary = summary;
  Id id = repo::save_snapshot(repository, snapshot);

  for (const std::string& error : result.errors) std::cerr << "error: " << error << "\n";
  for (const std::string& path : result.changed_while_reading)
    std::cerr << "warning: file changed while it was read (saved as read): " << path << "\n";
  return PathBackupOutcome{id, std::move(result), summary};
}

int run_backup_command(const GlobalOptions& global, const BackupCommandOptions& options) {
  if (!options.config.empty()) {
    if (!options.paths.empty()) throw Error("backup takes either paths or --config, not both", ExitCode::usage);
    return run_deployment_backup(global, options);
  }
  if (!options.sets.empty()) throw Error("--set needs --config", ExitCode::usage);
  if (options.paths.empty()) throw Error("backup needs at least one path (or --config)", ExitCode::usage);
  auto repository = open_repository(global);
  repo::RepositoryLock lock(*repository, false);
  repository->load_index();
  PathBackupRequest request{options.paths, options.tags, options.excludes, options.force, options.read_concurrency,
                            options.time.empty() ? 0 : parse_rfc3339(options.time)};
  PathBackupOutcome outcome = backup_paths_as_snapshot(global, *repository, request);
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

}  // namespace obkeep::cli
