// The physical recovery of a PostgreSQL database, as a drill runs it: the newest base
// backup extracted into a data directory, a throwaway server started on it (it replays the
// WAL the backup holds to become consistent), and every table of the database counted, as
// the logical path reports them. Faster than a logical restore: no index is rebuilt.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "deploy/deployment.hpp"
#include "repo/repository.hpp"
#include "repo/snapshot.hpp"

namespace obkeep::ops {

struct ClusterRecovery {
  std::string server_version;
  uint64_t bytes = 0;  // of the extracted base backup
  uint64_t tables = 0, rows = 0;
};

// The server binaries that can start `base` (from its manifest.json), or nullopt when this
// machine has none of its major version. Throws Error when the manifest cannot be read.
std::optional<std::string> binaries_for_base_backup(repo::Repository& repository, const repo::Snapshot& base);

// Extracts `base` into `data_directory` (new or empty), starts a scratch server on it with
// `bin_directory`'s postgres, counts the rows of every table of `database`, and stops it.
// The data directory stays. Throws Error naming what failed.
ClusterRecovery recover_cluster(repo::Repository& repository, const deploy::Database& database, const repo::Snapshot& base,
                                const std::string& data_directory, const std::string& bin_directory);

}  // namespace obkeep::ops
