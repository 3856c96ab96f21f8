// Planning the artifacts, instance and databases sets.
#include "deploy/backup_sets.hpp"

#include <algorithm>

#include "util/error.hpp"

namespace obkeep::deploy {

std::vector<std::string> default_excludes(const std::string& set) {
  // Live H2 files belong to the databases set, which copies them only when they are
  // consistent; a plain file copy of a running database could not be trusted. The lock
  // and trace files are transient; rollback and staging directories are obkeep's own.
  if (set == "artifacts" || set == "instance")
    return {"*.lock.db", "*.trace.db", "*.trace.db.old", "*/repository/database/*.h2.db",
            "*/repository/database/*.mv.db", "wso2carbon.pid", "*.obkeep-rollback-*", ".*.obkeep-staging-*"};
  return {};
}

std::vector<PlannedSnapshot> plan_backup_sets(const Config& config, const Discovery& discovery,
                                              const std::vector<std::string>& requested) {
  std::vector<std::string> sets = requested;
  if (sets.empty()) sets.assign(std::begin(set_names), std::end(set_names));
  for (const std::string& set : sets)
    if (std::find(std::begin(set_names), std::end(set_names), set) == std::end(set_names))
      throw Error("unknown set '" + set + "' (databases, artifacts, instance)", ExitCode::usage);
  std::vector<PlannedSnapshot> plan;
  for (const std::string& set : sets) {
    std::vector<std::string> excludes = default_excludes(set);
    if (auto it = config.sets.find(set); it != config.sets.end())
      excludes.insert(excludes.end(), it->second.exclude.begin(), it->second.exclude.end());
    if (set == "databases") {
      for (const Database& database : discovery.databases) {
        if (database.method.rfind("none", 0) == 0) continue;
        PlannedSnapshot snapshot;
        snapshot.set = set;
        snapshot.database = &database;
        snapshot.tags = {"set=databases", "database=" + database.id};
        plan.push_back(snapshot);
      }
      continue;
    }
    for (const std::string& home : discovery.homes) {
      PlannedSnapshot snapshot;
      snapshot.set = set;
      snapshot.home = home;
      snapshot.paths = {set == "artifacts" ? home + "/repository" : home};
      snapshot.excludes = excludes;
      snapshot.tags = {"set=" + set, "home=" + home};
      plan.push_back(snapshot);
    }
  }
  return plan;
}

}  // namespace obkeep::deploy
