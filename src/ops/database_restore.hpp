// A logical restore of one database's snapshot into the database a JDBC URL names: what
// `restore-db --to` and `drill` share.
#pragma once

#include <string>

#include "db/engine.hpp"
#include "deploy/deployment.hpp"
#include "repo/repository.hpp"
#include "repo/snapshot.hpp"

namespace obkeep::ops {

struct DatabaseTarget {
  std::string jdbc_url;
  std::string user;      // empty: the source datasource's
  std::string password;  // empty: the source datasource's
};

struct DatabaseRestoreOutcome {
  db::RestoreReport report;
  std::string target;  // described for people, without secrets
  db::ConnectionInfo source, connection;  // the backed-up database's and the target's
};

DatabaseRestoreOutcome restore_database(repo::Repository& repository, const deploy::Database& database,
                                        const repo::Snapshot& snapshot, const DatabaseTarget& target,
                                        const db::RestoreOptions& options);

// The same into a connection already made up (a private server obkeep started itself).
DatabaseRestoreOutcome restore_database_into(repo::Repository& repository, const deploy::Database& database,
                                             const repo::Snapshot& snapshot, const db::ConnectionInfo& target,
                                             const db::RestoreOptions& options);

}  // namespace obkeep::ops
