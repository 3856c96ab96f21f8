// What the daemon asks of a deployment: to look at its repositories, and to run a job.
// The real one (DeploymentKeeper) calls the ops layer; the daemon's logic does not care.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/job.hpp"
#include "daemon/schedule.hpp"
#include "ops/status.hpp"

namespace obkeep::daemon {

struct Observation {
  ops::StatusResult status;  // the objectives judged at status.checked_ns, and the drills
  std::map<Job, Observed> jobs;
  // Per objective (objective_key), the times of its recovery points, oldest first.
  std::map<std::string, std::vector<int64_t>> recovery_points;
  std::map<std::string, int64_t> last_verified_ns;  // per place ("primary" or a site)
  std::map<std::string, uint64_t> repository_bytes;  // per place, when known
  std::string error;  // the primary could not be read: nothing else is filled
};

struct JobOutcome {
  bool ok = false;
  std::string error;     // one line, when !ok
  double duration_s = 0;
  uint64_t bytes_added = 0;  // backup and copy
  nlohmann::json details = nlohmann::json::object();  // for the log line and the page
};

class Keeper {
 public:
  virtual ~Keeper() = default;
  // The jobs the policy asks for, and how often.
  virtual std::vector<JobPlan> plan() = 0;
  // Reads the repositories; never throws (a failure is in Observation::error).
  virtual Observation observe(int64_t now_ns) = 0;
  // Runs one job to its end; never throws except when interrupted (Error with
  // ExitCode::interrupted), which the daemon takes as the order to stop.
  virtual JobOutcome run(const Job& job) = 0;
};

}  // namespace obkeep::daemon
