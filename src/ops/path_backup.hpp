// Backing up paths as one snapshot into an open repository: for `backup PATH...` and for
// the artifacts and instance sets of a deployment.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "archiver/backup.hpp"
#include "ops/log.hpp"
#include "repo/repository.hpp"

namespace obkeep::ops {

// Called as a backup starts with the counters it advances; what it returns is held until
// the backup ends (the CLI's live progress line).
using ProgressDisplay = std::function<std::shared_ptr<void>(const archiver::BackupProgress& progress)>;

// What one path snapshot takes.
struct PathBackupRequest {
  std::vector<std::string> paths;
  std::vector<std::string> tags;
  std::vector<std::string> excludes;
  bool force = false;
  unsigned read_concurrency = 0;  // 0: two per core
  int64_t time_ns = 0;            // 0: now
};

struct PathBackupOutcome {
  Id snapshot;
  archiver::BackupResult result;  // with the source entries that could not be read
  nlohmann::json summary;         // files_new … bytes_added, duration_s: also stored in the snapshot
};

// Backs up `request.paths` as one snapshot (the repository is open, its index loaded and
// locked). Unreadable entries and files changed while read are logged and in the outcome.
PathBackupOutcome backup_paths(repo::Repository& repository, const PathBackupRequest& request, const Log& log,
                               const ProgressDisplay& display = {});

}  // namespace obkeep::ops
