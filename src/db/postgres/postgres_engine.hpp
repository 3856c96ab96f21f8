// PostgreSQL: a logical backup consistent as of one instant (workers share one exported
// snapshot), tables streamed with COPY in physical order; restore in parallel.
#pragma once

#include "db/engine.hpp"

namespace obkeep::db {

class PostgresEngine : public Engine {
 public:
  BackupReport backup(const ConnectionInfo& source, DumpSink& sink, const BackupOptions& options) override;
  RestoreReport restore(DumpSource& source, const ConnectionInfo& target, const RestoreOptions& options) override;
};

}  // namespace obkeep::db
