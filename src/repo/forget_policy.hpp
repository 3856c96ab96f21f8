// Retention rules: which snapshots `forget` keeps (keep-last/daily/weekly/monthly).
#pragma once

#include <string>
#include <vector>

#include "repo/snapshot.hpp"

namespace obkeep::repo {

struct KeepRules {
  int last = 0, hourly = 0, daily = 0, weekly = 0, monthly = 0, yearly = 0;
  bool empty() const { return !last && !hourly && !daily && !weekly && !monthly && !yearly; }
};

struct ForgetDecision {
  Snapshot snapshot;
  bool keep = false;
  std::vector<std::string> reasons;  // e.g. "last", "daily"
};

// Snapshots are grouped by host and paths (and tags of the form set=/home=/database=);
// within a group, walking from newest to oldest, a rule keeps a snapshot when it is the
// first one of a new period (hour, day, ISO week, month, year in UTC) and the rule still
// has budget. Returns decisions for every snapshot, groups together, newest first.
std::vector<ForgetDecision> apply_keep_rules(const std::vector<Snapshot>& snapshots, const KeepRules& rules);

}  // namespace obkeep::repo
