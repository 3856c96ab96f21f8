// A recovery drill (`drill --config FILE [--site NAME]`): restores the newest recovery
// point of every home and database from the primary (or a DR site) into a sandbox the way
// a real recovery would — each server directory, then its newer repository/, then each
// database — verifies what it restored, and measures the recovery time against the RTO and
// the recovery point against the RPO.
#pragma once

#include <functional>
#include <string>

#include "deploy/config.hpp"
#include "deploy/discovery.hpp"
#include "ops/drill_report.hpp"
#include "ops/repository_access.hpp"

namespace obkeep::ops {

struct DrillOptions {
  std::string site;     // restore from this DR site; empty: from the primary
  std::string sandbox;  // an empty or new directory; empty: a new one in /var/tmp
  bool keep = false;    // keep the sandbox afterwards (default: removed)
  // Servers to restore databases into ("jdbc:postgresql://dr-db:5432/"); without one, a
  // dump is read and verified but not restored.
  std::string scratch_postgresql, scratch_mysql;
  std::function<void(const DrillStep&)> on_step;  // as each step ends
};

// Runs the drill; a failed step is in the result and the drill goes on with the next.
// Error (usage) for a non-empty sandbox or an unknown site; interruption is thrown.
DrillResult run_drill(const deploy::Config& config, const deploy::Discovery& discovery, const RepositoryAccess& access,
                      const DrillOptions& options);

// Records the drill in `primary`'s journal, where `status` and the daemon find the last
// measured RTO of each place. Throws Error.
void record_drill(repo::Repository& primary, const DrillResult& result);

}  // namespace obkeep::ops
