// Engines obkeep cannot drive itself (Oracle, SQL Server, …): a vendor dump command whose
// stdout is streamed in, and a restore command fed the dump on stdin.
#pragma once

#include "db/engine.hpp"

namespace obkeep::db {

class HookEngine : public Engine {
 public:
  BackupReport backup(const ConnectionInfo& source, DumpSink& sink, const BackupOptions& options) override;
  RestoreReport restore(DumpSource& source, const ConnectionInfo& target, const RestoreOptions& options) override;
};

}  // namespace obkeep::db
