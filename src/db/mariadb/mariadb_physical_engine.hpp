// MariaDB physical backups through mariadb-backup: the server's files copied while it runs
// (InnoDB's redo log makes them consistent at prepare), streamed into the repository; a
// restore writes a data directory ready for mariadbd. Streams: backup.xbstream (mariadb-
// backup --stream=xbstream) and manifest.json (server version, binlog coordinates).
#pragma once

#include "db/engine.hpp"

namespace obkeep::db {

class MariadbPhysicalEngine : public Engine {
 public:
  BackupReport backup(const ConnectionInfo& source, DumpSink& sink, const BackupOptions& options) override;
  // Into options.data_directory (new or empty): extract, then prepare.
  RestoreReport restore(DumpSource& source, const ConnectionInfo& target, const RestoreOptions& options) override;
};

}  // namespace obkeep::db
