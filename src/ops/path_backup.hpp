// Running a path backup into an open repository: shared by `backup` and deployment sets.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "archiver/backup.hpp"
#include "cli/cli.hpp"
#include "repo/repository.hpp"

namespace obkeep::cli {

struct BackupCommandOptions {
  std::vector<std::string> paths;
  std::vector<std::string> tags;
  std::vector<std::string> excludes;
  bool force = false;
  std::string time;  // RFC 3339; empty: now
  std::string config;
  std::vector<std::string> sets;
  unsigned read_concurrency = 0;  // 0: two per core
};

// What one path snapshot takes.
struct PathBackupRequest {
  std::vector<std::string> paths;
  std::vector<std::string> tags;
  std::vector<std::string> excludes;
  bool force = false;
  unsigned read_concurrency = 0;
  int64_t time_ns = 0;  // 0: now
};

struct PathBackupOutcome {
  Id snapshot;
  archiver::BackupResult result;
  nlohmann::json summary;
};

// Backs up `paths` as one snapshot with `tags` (the repository is open, its index loaded
// and locked). Prints errors and warnings on stderr.
PathBackupOutcome backup_paths_as_snapshot(const GlobalOptions& global, repo::Repository& repository,
                                           const PathBackupRequest& request);

int run_backup_command(const GlobalOptions& global, const BackupCommandOptions& options);

}  // namespace obkeep::cli
