#include "ops/objectives.hpp"

#include <algorithm>

#include "deploy/backup_sets.hpp"

namespace obkeep::ops {

const char* to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::met: return "met";
    case Verdict::at_risk: return "at_risk";
    case Verdict::violated: return "violated";
  }
  return "violated";
}

std::vector<std::string> Objective::tags() const {
  if (set == "databases") return {"set=databases", "database=" + database};
  return {"set=" + set, "home=" + home};
}

std::vector<std::optional<std::string>> places_of(const deploy::Config& config, const std::string& set,
                                                  const deploy::Policy& policy) {
  std::vector<std::optional<std::string>> places = {std::nullopt};
  for (const deploy::DrSite& site : config.dr_sites) {
    bool named = std::find(policy.sites.begin(), policy.sites.end(), site.name) != policy.sites.end();
    bool holds = std::find(site.sets.begin(), site.sets.end(), set) != site.sets.end();
    if (named || holds) places.push_back(site.name);
  }
  return places;
}

std::vector<Objective> plan_objectives(const deploy::Config& config, const deploy::Discovery& discovery) {
  std::vector<Objective> objectives;
  for (const deploy::PlannedSnapshot& planned : deploy::plan_backup_sets(config, discovery, {})) {
    auto policy = config.policies.find(planned.set);
    if (policy == config.policies.end() || !policy->second.rpo_s) continue;
    for (const auto& place : places_of(config, planned.set, policy->second)) {
      Objective objective;
      objective.set = planned.set;
      objective.home = planned.home;
      if (planned.database) {
        objective.database = planned.database->id;
        objective.database_name = planned.database->display_name();
      }
      objective.site = place;
      objective.rpo_s = *policy->second.rpo_s;
      objective.rto_s = policy->second.rto_s;
      objective.frequency_s = policy->second.frequency_s;
      objectives.push_back(std::move(objective));
    }
  }
  return objectives;
}

void evaluate(Objective& objective, std::optional<int64_t> newest_ns, const std::string& snapshot, int64_t now_ns) {
  objective.newest_ns = newest_ns;
  objective.snapshot = snapshot;
  if (!newest_ns) {
    objective.age_s.reset();
    objective.verdict = Verdict::violated;
    objective.reason = "no recovery point";
    return;
  }
  int64_t age = std::max<int64_t>(0, (now_ns - *newest_ns) / 1000000000);
  objective.age_s = age;
  int64_t interval = objective.frequency_s ? *objective.frequency_s : objective.rpo_s / 4;
  if (age > objective.rpo_s) {
    objective.verdict = Verdict::violated;
    objective.reason = "the newest recovery point is older than the RPO";
  } else if (age > objective.rpo_s - interval) {
    objective.verdict = Verdict::at_risk;
    objective.reason = "one more late or failed backup and the RPO is breached";
  } else {
    objective.verdict = Verdict::met;
    objective.reason.clear();
  }
}

}  // namespace obkeep::ops
