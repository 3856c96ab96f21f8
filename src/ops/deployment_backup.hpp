// A deployment backup (`backup --config`): one snapshot per set and home (artifacts,
// instance) and per database, between the config's hooks; then copies to the DR sites
// marked after_backup.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "deploy/config.hpp"
#include "deploy/discovery.hpp"
#include "ops/database_backup.hpp"
#include "ops/path_backup.hpp"
#include "ops/repository_access.hpp"
#include "ops/site_copy.hpp"

namespace obkeep::ops {

// One planned backup: a set of one home, or one database.
struct SetBackupResult {
  std::string set;
  std::vector<std::string> tags;
  std::string home;                         // artifacts and instance
  std::vector<std::string> paths;           // artifacts and instance
  const deploy::Database* database = nullptr;  // databases (points into the discovery given)
  bool ok = false;                          // saved, and (paths) every source entry read
  std::string error;                        // why it failed (no snapshot)
  std::optional<PathBackupOutcome> paths_outcome;
  std::optional<DatabaseBackupOutcome> database_outcome;
};

struct DeploymentBackupOptions {
  std::vector<std::string> sets;  // empty: every set
  bool force = false;             // read every file, even unchanged ones
  unsigned read_concurrency = 0;  // 0: two per core
  ProgressDisplay display;
  std::function<void(const SetBackupResult&)> on_backup_done;  // as each snapshot is saved or fails
  std::function<void(const SiteCopyResult&)> on_copy_done;             // as each after_backup copy ends
};

struct DeploymentBackupResult {
  std::vector<SetBackupResult> backups;
  std::vector<SiteCopyResult> copies;
  int failed = 0;         // backups that made no snapshot
  int partial = 0;        // path snapshots missing unreadable entries
  int copies_failed = 0;

  // 3 when a backup failed or is partial (weighs more than a failed copy, which the next
  // run retries), else 1 when a copy failed, else 0.
  int exit_code() const;
};

// Backs up the deployment into the primary repository. One failing backup does not stop
// the others; Error for a bad --set, a failed hook, a repository that cannot be opened or
// can no longer store anything, and interruption.
DeploymentBackupResult backup_deployment(const deploy::Config& config, const deploy::Discovery& discovery,
                                         const RepositoryAccess& access, const DeploymentBackupOptions& options,
                                         const Log& log);

}  // namespace obkeep::ops
