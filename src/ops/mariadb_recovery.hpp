// A MariaDB physical backup (mariadb-backup) recovered into a data directory and started on
// a private server whose tables are counted: what a drill does to prove the copy runs.
#pragma once

#include <cstdint>
#include <string>

#include "deploy/deployment.hpp"
#include "repo/repository.hpp"
#include "repo/snapshot.hpp"

namespace obkeep::ops {

struct ServerRecovery {
  std::string server_version;
  uint64_t bytes = 0;  // of the backup stream
  uint64_t tables = 0, rows = 0;
};

// Extracts and prepares `physical` into `data_directory` (new or empty), starts mariadbd on
// it, counts the rows of every table of the database's schema, stops it. Throws Error naming
// the step that failed; nothing is left running.
ServerRecovery recover_mariadb(repo::Repository& repository, const deploy::Database& database,
                               const repo::Snapshot& physical, const std::string& data_directory);

}  // namespace obkeep::ops
