// A PostgreSQL logical backup restored as a new cluster's files: initdb into a new data
// directory, the backup loaded there on a private server as the datasource's user (made a
// role, owner of the database), the server stopped. What `restore-db --to-datadir` does when
// a logical backup is the newest recovery point (no base backup, or none that reaches as
// far): a cluster the operator starts, as a base backup's would be.
#pragma once

#include <cstdint>
#include <string>

#include "deploy/deployment.hpp"
#include "repo/repository.hpp"
#include "repo/snapshot.hpp"

namespace obkeep::ops {

struct NewClusterRestore {
  std::string server_version;  // of the binaries that made it
  std::string owner;           // the role that owns the database (no password: set one)
  uint64_t tables = 0, rows = 0;
};

// `data_directory` must be new or empty; it is emptied again when anything fails. Needs the
// server binaries of the backup's major version (/usr/lib/postgresql/<major>/bin). Throws
// Error naming what failed.
NewClusterRestore restore_as_new_cluster(repo::Repository& repository, const deploy::Database& database,
                                         const repo::Snapshot& backup, const std::string& data_directory, int jobs);

}  // namespace obkeep::ops
