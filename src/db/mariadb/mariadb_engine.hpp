// MariaDB/MySQL: a logical backup consistent across all tables (workers start consistent
// snapshots under one global read lock), streamed in primary-key order; parallel restore
// through LOAD DATA LOCAL INFILE fed straight from the repository.
#pragma once

#include "db/engine.hpp"

namespace obkeep::db {

class MariadbEngine : public Engine {
 public:
  BackupReport backup(const ConnectionInfo& source, DumpSink& sink, const BackupOptions& options) override;
  RestoreReport restore(DumpSource& source, const ConnectionInfo& target, const RestoreOptions& options) override;
};

}  // namespace obkeep::db
