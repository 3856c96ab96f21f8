// The backup of paths as a snapshot, with its summary.
#include "ops/path_backup.hpp"

#include <chrono>

#include "repo/snapshot.hpp"
#include "util/host.hpp"

namespace obkeep::ops {

using nlohmann::json;

PathBackupOutcome backup_paths(repo::Repository& repository, const PathBackupRequest& request, const Log& log,
                               const ProgressDisplay& display) {
  auto start = std::chrono::steady_clock::now();
  int64_t start_time = request.time_ns ? request.time_ns : now_unix_nanos();
  archiver::BackupOptions options;
  options.paths = request.paths;
  options.excludes = request.excludes;
  options.force = request.force;
  options.workers = request.read_concurrency;
  std::vector<std::string> absolute;
  for (const std::string& path : request.paths) absolute.push_back(archiver::absolute_path(path));
  options.parent = archiver::find_parent(repo::list_snapshots(repository), absolute, {});

  uint64_t added_before = repository.statistics().bytes_stored;
  archiver::BackupProgress progress;
  archiver::BackupResult result;
  {
    std::shared_ptr<void> shown = display ? display(progress) : nullptr;
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
  snapshot.tags = request.tags;
  snapshot.excludes = request.excludes;
  snapshot.hostname = hostname();
  snapshot.username = username();
  snapshot.program_version = std::string("obkeep ") + OBKEEP_VERSION;
  snapshot.summary = summary;
  Id id = repo::save_snapshot(repository, snapshot);

  for (const std::string& error : result.errors) log(LogLevel::error, "error: " + error + "\n");
  for (const std::string& path : result.changed_while_reading)
    log(LogLevel::warning, "warning: file changed while it was read (saved as read): " + path + "\n");
  return PathBackupOutcome{id, std::move(result), summary};
}

}  // namespace obkeep::ops
