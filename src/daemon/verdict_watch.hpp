// Turns each round's objective verdicts into alerts, once per change: an objective turning
// at risk or violated, and one recovering to met. At start an objective already at risk or
// violated is a change (nobody has been told); one already met is not.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "ops/objectives.hpp"

namespace obkeep::daemon {

struct VerdictChange {
  const ops::Objective* objective;  // into the vector passed to observe()
  std::string event;                // objective_at_risk, objective_violated, objective_met
};

// "databases/postgresql://db:5432/apimgtdb@dr1": one objective across rounds.
std::string objective_key(const ops::Objective& objective);

class VerdictWatch {
 public:
  std::vector<VerdictChange> observe(const std::vector<ops::Objective>& objectives);

 private:
  std::map<std::string, ops::Verdict> last_;
};

}  // namespace obkeep::daemon
