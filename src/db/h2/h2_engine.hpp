// H2, the embedded database of every WSO2 node: file copies when stopped, H2's own SCRIPT
// through AUTO_SERVER when running, never a silent copy of live files.
#pragma once

#include "db/engine.hpp"

namespace obkeep::db {

class H2Engine : public Engine {
 public:
  BackupReport backup(const ConnectionInfo& source, DumpSink& sink, const BackupOptions& options) override;
  RestoreReport restore(DumpSource& source, const ConnectionInfo& target, const RestoreOptions& options) override;

  // Is the database open by a live process? (its .lock.db exists, or the caller says so)
  static bool in_use(const ConnectionInfo& info);
};

}  // namespace obkeep::db
