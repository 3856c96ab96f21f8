// Keep-rule evaluation in the way restic and borg do it, so operators' habits carry over.
#include "repo/forget_policy.hpp"

#include <algorithm>
#include <ctime>
#include <map>

namespace obkeep::repo {

namespace {

std::string group_key(const Snapshot& snapshot) {
  std::vector<std::string> paths = snapshot.paths;
  std::sort(paths.begin(), paths.end());
  std::string key = snapshot.hostname;
  for (const auto& path : paths) key += "\n" + path;
  std::vector<std::string> identity;
  for (const auto& tag : snapshot.tags)
    if (tag.rfind("set=", 0) == 0 || tag.rfind("home=", 0) == 0 || tag.rfind("database=", 0) == 0)
      identity.push_back(tag);
  std::sort(identity.begin(), identity.end());
  for (const auto& tag : identity) key += "\n" + tag;
  return key;
}

long period(const Snapshot& snapshot, char unit) {
  time_t seconds = static_cast<time_t>(snapshot.time_ns / 1000000000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  switch (unit) {
    case 'h': return static_cast<long>(seconds / 3600);
    case 'd': return static_cast<long>(seconds / 86400);
    case 'w': {
      char text[16];
      std::strftime(text, sizeof text, "%G%V", &utc);  // ISO year and week
      return std::stol(text);
    }
    case 'm': return (utc.tm_year + 1900) * 12L + utc.tm_mon;
    default: return utc.tm_year + 1900L;
  }
}

}  // namespace

std::vector<ForgetDecision> apply_keep_rules(const std::vector<Snapshot>& snapshots, const KeepRules& rules) {
  std::map<std::string, std::vector<Snapshot>> groups;
  for (const Snapshot& snapshot : snapshots) groups[group_key(snapshot)].push_back(snapshot);
  std::vector<ForgetDecision> decisions;
  for (auto& [key, group] : groups) {
    std::sort(group.begin(), group.end(), [](const Snapshot& a, const Snapshot& b) { return a.time_ns > b.time_ns; });
    struct Rule {
      const char* name;
      char unit;
      int budget;
      long last_period = -1;
      bool has_last = false;
    };
    Rule bucketed[] = {{"hourly", 'h', rules.hourly},   {"daily", 'd', rules.daily},
                       {"weekly", 'w', rules.weekly},   {"monthly", 'm', rules.monthly},
                       {"yearly", 'y', rules.yearly}};
    int last_budget = rules.last;
    for (const Snapshot& snapshot : group) {
      ForgetDecision decision{snapshot, false, {}};
      if (last_budget > 0) {
        --last_budget;
        decision.keep = true;
        decision.reasons.push_back("last");
      }
      for (Rule& rule : bucketed) {
        if (rule.budget <= 0) continue;
        long p = period(snapshot, rule.unit);
        if (rule.has_last && p == rule.last_period) continue;
        rule.has_last = true;
        rule.last_period = p;
        --rule.budget;
        decision.keep = true;
        decision.reasons.push_back(rule.name);
      }
      decisions.push_back(std::move(decision));
    }
  }
  return decisions;
}

}  // namespace obkeep::repo
