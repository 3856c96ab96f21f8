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

// The server that can start `base`: its version (from manifest.json) and this machine's
// binaries of that major version ("" when there are none). Throws Error when the manifest
// cannot be read.
struct BaseBackupServer {
  std::string version, binaries;
};
BaseBackupServer server_for_base_backup(repo::Repository& repository, const repo::Snapshot& base);

// Extracts `base` into `data_directory` (new or empty), starts a scratch server on it with
// `server.binaries`, counts the rows of every table of `database`, and stops it. The data
// directory stays. Throws Error naming what failed.
ClusterRecovery recover_cluster(repo::Repository& repository, const deploy::Database& database, const repo::Snapshot& base,
                                const BaseBackupServer& server, const std::string& data_directory);

}  // namespace obkeep::ops
