// The three sets of the backup guidance as a plan of snapshots.
#pragma once

#include <string>
#include <vector>

#include "deploy/config.hpp"
#include "deploy/deployment.hpp"

namespace obkeep::deploy {

struct PlannedSnapshot {
  std::string set;       // databases, artifacts, instance
  std::string home;      // artifacts and instance
  const Database* database = nullptr;  // databases
  std::vector<std::string> paths;      // artifacts and instance
  std::vector<std::string> excludes;
  std::vector<std::string> tags;       // set=…, home=… or database=…
};

// For each home: `artifacts` = HOME/repository, `instance` = HOME; for each database
// backed up natively or by hook: one `databases` snapshot. `sets` empty means all three.
std::vector<PlannedSnapshot> plan_backup_sets(const Config& config, const Discovery& discovery,
                                              const std::vector<std::string>& sets);

// Excludes that apply to a set whatever the config says.
std::vector<std::string> default_excludes(const std::string& set);

}  // namespace obkeep::deploy
