// When each of the daemon's jobs is due. The base of every due time is what the
// repositories hold (the newest recovery points, the journal of past runs), gathered afresh
// before each round, so that a restart, or a second machine keeping the same policy, does
// not repeat work; after downtime an overdue job runs once, not once per missed interval.
// Failures in this process push a job's next try back, doubling each time.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "daemon/job.hpp"

namespace obkeep::daemon {

// What the repositories say of one job.
struct Observed {
  // When its work was last done (backup: the oldest of the set's newest recovery points on
  // the primary, so that every home and database of the set is kept within its frequency;
  // prune, verify, drill: the last run the journal records). nullopt: never.
  std::optional<int64_t> last_done_ns;
  // copy: the time of the oldest recovery point on the primary that the site lacks;
  // nullopt when the site holds everything it should.
  std::optional<int64_t> pending_since_ns;
};

class Schedule {
 public:
  explicit Schedule(std::vector<JobPlan> plans);

  const std::vector<JobPlan>& plans() const { return plans_; }

  // When `job` is due given what was observed; nullopt: nothing to do (a copy to a site
  // that holds everything).
  std::optional<int64_t> due_at(const JobPlan& plan, const Observed& observed) const;

  // The jobs due at `now_ns`: backups first (the recovery-point objectives depend on
  // them), then copies, prunes, verifications and drills; within a kind the most overdue
  // first. A job without facts is treated as never done.
  std::vector<Job> due(const std::map<Job, Observed>& observed, int64_t now_ns) const;

  // When the next job falls due after `now_ns` (to sleep until then); nullopt: none will.
  std::optional<int64_t> next_due(const std::map<Job, Observed>& observed) const;

  // Outcomes. Each returns true when the job's state changed (a first failure after a
  // success or at start, a success after failures): alerts fire on changes only.
  bool succeeded(const Job& job, int64_t now_ns);
  bool failed(const Job& job, int64_t now_ns);

  int failures(const Job& job) const;
  // How long after its last failure a failing job is tried again: a quarter of its
  // interval (between 1 s and 30 s), doubling with each failure, at most its interval
  // (and at most an hour).
  int64_t retry_delay_s(const Job& job) const;

 private:
  struct State {
    int failures = 0;
    bool known = false;  // an outcome was recorded
    int64_t last_success_ns = 0;
    int64_t last_failure_ns = 0;
  };
  const JobPlan& plan_of(const Job& job) const;

  std::vector<JobPlan> plans_;
  std::map<Job, State> states_;
};

}  // namespace obkeep::daemon
