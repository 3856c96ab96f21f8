// PostgreSQL physical base backups for point-in-time recovery: pg_basebackup's tar of the
// cluster streamed into the repository; restored into a new data directory set up to
// replay archived WAL (obkeep wal-fetch) up to a target time.
#pragma once

#include "db/engine.hpp"

namespace obkeep::db {

class PostgresBaseEngine : public Engine {
 public:
  BackupReport backup(const ConnectionInfo& source, DumpSink& sink, const BackupOptions& options) override;
  // Needs options.data_directory (absent or empty) and options.restore_command.
  RestoreReport restore(DumpSource& source, const ConnectionInfo& target, const RestoreOptions& options) override;
};

}  // namespace obkeep::db
