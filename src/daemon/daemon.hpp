// `obkeep daemon`: keeps a deployment's policy. Each round it reads the repositories,
// alerts on objectives that changed, and runs the most urgent job that is due (one at a
// time, so one job per repository at a time), then sleeps until the next is due. SIGTERM
// ends it: the running job stops at its next cancellation point and the daemon exits 0.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <ostream>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "daemon/alerts.hpp"
#include "daemon/keeper.hpp"
#include "daemon/schedule.hpp"
#include "daemon/verdict_watch.hpp"

namespace obkeep::daemon {

struct DaemonOptions {
  // How often the repositories are read again when no job is due (objectives age while
  // nothing runs); at most this, at least a second.
  int64_t observe_every_s = 30;
  bool once = false;  // run what is due now, then return (for a timer unit)
  int64_t history_s = 7 * 86400;  // how far back the status page's charts go
};

// What the daemon knows of one job, for /metrics and the status page.
struct JobStats {
  int64_t last_success_ns = 0;
  int64_t last_run_ns = 0;
  double last_duration_s = 0;
  uint64_t last_bytes_added = 0;
  uint64_t failures_total = 0;
  int consecutive_failures = 0;
  std::string last_error;
};

class Daemon {
 public:
  Daemon(Keeper& keeper, Alerts alerts, DaemonOptions options, std::ostream& log);

  // Until SIGTERM/SIGINT (or one round with `once`). Returns the exit code: 0.
  int run();

  // For the HTTP listener's thread.
  std::string metrics() const;
  nlohmann::json status_json() const;
  std::string status_html() const;

 private:
  void observe_and_alert();
  void run_job(const Job& job);
  void alert(nlohmann::json event);
  void log(bool ok, const std::string& fields);
  void sleep_until(int64_t deadline_ns);

  Keeper& keeper_;
  Schedule schedule_;
  VerdictWatch watch_;
  Alerts alerts_;
  DaemonOptions options_;
  std::ostream& log_;
  bool primary_unreadable_ = false;
  std::set<std::string> warned_;  // policy warnings already logged
  bool caught_up_ = false;  // nothing was due at some round since the start

  mutable std::mutex mutex_;  // guards what the HTTP thread reads:
  Observation last_;
  std::map<Job, JobStats> stats_;
  std::deque<ops::JobFailure> failures_;  // the last 100, oldest first
};

// The event name for a failed job: backup_failed, copy_failed, prune_failed,
// verify_failed, drill_failed.
std::string failure_event(const Job& job);

}  // namespace obkeep::daemon
