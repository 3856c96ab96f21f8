// Backing up one discovered database into a snapshot, and mapping databases to engines.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "db/engine.hpp"
#include "deploy/deployment.hpp"
#include "repo/repository.hpp"

namespace obkeep::ops {

// The engine name and connection facts for a discovered database; throws Error when
// obkeep cannot back it up or a credential is missing.
db::ConnectionInfo connection_for(const deploy::Database& database, std::string& engine);

struct DatabaseBackupOutcome {
  Id snapshot;
  db::BackupReport report;
  uint64_t bytes = 0;
  double duration_s = 0;
};

// `engine` overrides the engine discovery chose (postgresql-base: a physical base backup).
DatabaseBackupOutcome backup_database(repo::Repository& repository, const deploy::Database& database,
                                      const std::vector<std::string>& tags, int jobs, const std::string& engine = "");

nlohmann::json report_json(const db::BackupReport& report);

}  // namespace obkeep::ops
