// restore-db's parts, shared by its files: restore_db.cpp (the command; a logical restore
// into a running server), restore_db_mariadb.cpp and restore_db_postgres.cpp (into a new
// data directory, each engine by its own paths).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cli/common.hpp"
#include "deploy/deployment.hpp"
#include "ops/binlog_archive.hpp"
#include "repo/repository.hpp"
#include "repo/snapshot.hpp"

namespace obkeep::cli {

struct RestoreDbCommandOptions {
  std::string snapshot = "latest", database, to, user, password_file, until, until_gtid, datadir, stanza = "main";
  int jobs = 2;
  size_t wal_prefetch = 8;
  bool drop_existing = false;
};

int64_t parse_until(const std::string& text);
// --until or --until-gtid, as where a binlog replay stops; nullopt with neither.
std::optional<ops::BinlogTarget> binlog_target(const RestoreDbCommandOptions& options);
bool has_tags(const repo::Snapshot& snapshot, const std::vector<std::string>& tags);
// The newest backup with `tags` before the target (any, without one); nullopt when none is.
std::optional<repo::Snapshot> newest_matching(const std::vector<repo::Snapshot>& snapshots,
                                              const std::vector<std::string>& tags,
                                              const std::optional<ops::BinlogTarget>& target);
// The same, or an Error saying why there is none.
repo::Snapshot newest_before(const std::vector<repo::Snapshot>& snapshots, const std::vector<std::string>& tags,
                             const ops::BinlogTarget& target, const deploy::Database& database);

// MariaDB into a new data directory: the newest of its physical and logical backups, then
// the binlog (restore_db_mariadb.cpp).
int restore_mariadb_datadir(const GlobalOptions& global, const deploy::Database& database, repo::Repository& repository,
                            const RestoreDbCommandOptions& options);
// PostgreSQL into a new data directory: a base backup and the WAL, or a newer logical
// backup as a new cluster (restore_db_postgres.cpp).
int restore_postgres_datadir(const GlobalOptions& global, const deploy::Database& database, repo::Repository& repository,
                             const RestoreDbCommandOptions& options);

}  // namespace obkeep::cli
