// The interface every database engine implements: a consistent dump into named streams,
// and a restore from them.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "db/dump_store.hpp"

namespace obkeep::db {

struct ConnectionInfo {
  std::string engine;    // "postgresql", "mysql", "h2", "hook"
  std::string host;      // empty for H2
  int port = 0;
  std::string database;  // database name; for H2 the absolute path without file suffix
  std::string user;
  std::string password;  // never logged
  std::map<std::string, std::string> options;  // engine-specific (e.g. H2 URL options)

  // "postgresql://host:port/db" style description for messages (no password).
  std::string describe() const;
  // The option named `key`, or `fallback` when it is absent or empty.
  std::string option(const std::string& key, const std::string& fallback = "") const;
  // The option named `key`; throws an Error naming the database when it is absent or empty.
  std::string required_option(const std::string& key) const;
};

struct BackupOptions {
  int jobs = 2;  // parallel workers
};

struct TableReport {
  std::string name;
  uint64_t rows = 0;
  uint64_t bytes = 0;
};

struct BackupReport {
  std::vector<TableReport> tables;
  bool crash_consistent_only = false;  // e.g. a live H2 file copied without the engine's help
  std::vector<std::string> warnings;
  std::string consistency;  // how consistency was obtained, e.g. "exported snapshot 00000003-1"
  // MariaDB/MySQL: the binlog coordinates of the dump's instant (empty file: none), where a
  // binlog replay starts.
  std::string binlog_file;
  uint64_t binlog_position = 0;
  std::string binlog_gtid;  // the same point as a GTID position ("0-1-105"), when known
  // PostgreSQL base backups: the first WAL file a recovery from it replays (empty: not
  // known), and the cluster's WAL segment size, which its file names depend on.
  std::string wal_start_file;
  uint64_t wal_segment_bytes = 0;
};

struct RestoreOptions {
  int jobs = 2;
  bool create_database = true;  // create the target database when absent
  bool drop_existing = false;   // replace a target database that has tables
  // Physical restores (a PostgreSQL base backup) write a data directory instead.
  std::string data_directory;
  std::string restore_command;       // how the server fetches archived WAL
  std::string recovery_target_time;  // empty: recover to the end of the archive
};

struct RestoreReport {
  std::vector<TableReport> tables;
  std::vector<std::string> warnings;
};

class Engine {
 public:
  virtual ~Engine() = default;
  virtual BackupReport backup(const ConnectionInfo& source, DumpSink& sink, const BackupOptions& options) = 0;
  virtual RestoreReport restore(DumpSource& source, const ConnectionInfo& target, const RestoreOptions& options) = 0;
};

// The engine for ConnectionInfo::engine; throws Error for an engine obkeep cannot back up.
std::unique_ptr<Engine> make_engine(const std::string& engine);

}  // namespace obkeep::db
