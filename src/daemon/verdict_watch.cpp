#include "daemon/verdict_watch.hpp"

namespace obkeep::daemon {

std::string objective_key(const ops::Objective& objective) {
  std::string key = objective.set + "/" + (objective.set == "databases" ? objective.database : objective.home);
  if (objective.site) key += "@" + *objective.site;
  return key;
}

std::vector<VerdictChange> VerdictWatch::observe(const std::vector<ops::Objective>& objectives) {
  std::vector<VerdictChange> changes;
  for (const ops::Objective& objective : objectives) {
    auto [last, first] = last_.try_emplace(objective_key(objective), objective.verdict);
    if (!first && last->second == objective.verdict) continue;
    if (first && objective.verdict == ops::Verdict::met) continue;
    last->second = objective.verdict;
    changes.push_back({&objective, std::string("objective_") + ops::to_string(objective.verdict)});
  }
  return changes;
}

}  // namespace obkeep::daemon
