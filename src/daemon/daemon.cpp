#include "daemon/daemon.hpp"

#include <chrono>
#include <cstdio>
#include <sstream>
#include <thread>

#include "daemon/log_line.hpp"
#include "ops/metrics.hpp"
#include "ops/status.hpp"
#include "util/error.hpp"
#include "util/host.hpp"
#include "util/interrupt.hpp"

namespace obkeep::daemon {

using nlohmann::json;

namespace {

constexpr size_t failures_kept = 100;

std::string field(const std::string& key, const std::string& value) { return logfmt(key, value); }

std::string seconds_text(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", value);
  return text;
}

json objective_event(const std::string& event, const ops::Objective& objective, int64_t now_ns) {
  json about = ops::objective_json(objective);
  about["key"] = objective_key(objective);
  return {{"event", event}, {"time", format_rfc3339(now_ns)}, {"objective", about}};
}

std::string labels(const Job& job) {
  return "{job=\"" + std::string(to_string(job.kind)) + "\",target=\"" + (job.target.empty() ? "primary" : job.target) +
         "\"}";
}

}  // namespace

std::string failure_event(const Job& job) { return std::string(to_string(job.kind)) + "_failed"; }

Daemon::Daemon(Keeper& keeper, Alerts alerts, DaemonOptions options, std::ostream& log)
    : keeper_(keeper), schedule_(keeper.plan()), alerts_(std::move(alerts)), options_(options), log_(log) {
  options_.observe_every_s = std::max<int64_t>(1, options_.observe_every_s);
}

void Daemon::log(bool ok, const std::string& fields) { write_log_line(log_, !ok, fields); }

void Daemon::alert(json event) {
  event["hostname"] = hostname();
  log(true, field("alert", event.value("event", "")) + field("about", event.contains("job") ? event["job"].get<std::string>()
                                                                       : event.contains("objective") ? event["objective"].value("key", "") : ""));
  for (const std::string& failure : alerts_.send(event)) log(false, field("alert_failed", failure));
}

void Daemon::observe_and_alert() {
  int64_t now = now_unix_nanos();
  Observation observation = keeper_.observe(now);
  if (!observation.error.empty()) {
    if (!primary_unreadable_)
      alert({{"event", "repository_unreachable"}, {"time", format_rfc3339(now)}, {"error", observation.error}});
    primary_unreadable_ = true;
    log(false, field("observe", "failed") + field("error", observation.error));
  } else {
    primary_unreadable_ = false;
    // The policy checks that need the repository (an rto the last drill missed): once each.
    for (const std::string& warning : observation.status.warnings)
      if (warned_.insert(warning).second) log(false, field("policy", "warning") + field("message", warning));
    // Objectives are judged for alerts once the daemon has caught up with what was due at
    // start: a fresh start is not a violation to page anyone about, what it cannot fix is.
    if (caught_up_)
      for (const VerdictChange& change : watch_.observe(observation.status.objectives))
        alert(objective_event(change.event, *change.objective, now));
  }
  std::lock_guard lock(mutex_);
  if (observation.error.empty() || last_.status.objectives.empty()) last_ = std::move(observation);
  else last_.error = observation.error;  // keep the last good picture, say it is stale
}

void Daemon::run_job(const Job& job) {
  int64_t started = now_unix_nanos();
  log(true, field("job", to_string(job.kind)) + field("target", job.target.empty() ? "primary" : job.target) +
                field("state", "started"));
  JobOutcome outcome = keeper_.run(job);
  int64_t ended = now_unix_nanos();
  bool changed = outcome.ok ? schedule_.succeeded(job, ended) : schedule_.failed(job, ended);
  std::string fields = field("job", to_string(job.kind)) + field("target", job.target.empty() ? "primary" : job.target) +
                       field("outcome", outcome.ok ? "ok" : "failed") + field("duration_s", seconds_text(outcome.duration_s));
  if (outcome.bytes_added) fields += field("bytes_added", std::to_string(outcome.bytes_added));
  for (const auto& [key, value] : outcome.details.items())
    fields += field(key, value.is_string() ? value.get<std::string>() : value.dump());
  if (!outcome.ok) {
    fields += field("failures", std::to_string(schedule_.failures(job)));
    fields += field("retry_in_s", std::to_string(schedule_.retry_delay_s(job)));
    fields += field("error", outcome.error);
  }
  log(outcome.ok, fields);
  {
    std::lock_guard lock(mutex_);
    JobStats& stats = stats_[job];
    stats.last_run_ns = started;
    stats.last_duration_s = outcome.duration_s;
    if (outcome.ok) {
      stats.last_success_ns = ended;
      stats.last_bytes_added = outcome.bytes_added;
      stats.consecutive_failures = 0;
    } else {
      stats.failures_total++;
      stats.consecutive_failures++;
      stats.last_error = outcome.error;
      failures_.push_back({ended, job.name(), outcome.error});
      if (failures_.size() > failures_kept) failures_.pop_front();
    }
  }
  // A drill that ran but failed its checks alerts every time: each is a new finding.
  bool drill_verdict = job.kind == JobKind::drill && !outcome.ok;
  if (!outcome.ok && (changed || drill_verdict))
    alert({{"event", failure_event(job)}, {"time", format_rfc3339(ended)}, {"job", job.name()}, {"error", outcome.error}});
  else if (outcome.ok && changed)
    alert({{"event", std::string(to_string(job.kind)) + "_recovered"}, {"time", format_rfc3339(ended)}, {"job", job.name()}});
}

void Daemon::sleep_until(int64_t deadline_ns) {
  while (!interrupted() && now_unix_nanos() < deadline_ns)
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min<int64_t>(200, (deadline_ns - now_unix_nanos()) / 1000000 + 1)));
}

int Daemon::run() {
  log(true, field("started", "daemon") + field("jobs", std::to_string(schedule_.plans().size())));
  while (!interrupted()) {
    try {
      observe_and_alert();
    } catch (const Error& error) {
      // SIGTERM while the repositories were being read: stopping is the normal end.
      if (error.code() != ExitCode::interrupted) throw;
      break;
    }
    int64_t now = now_unix_nanos();
    std::map<Job, Observed> observed;
    {
      std::lock_guard lock(mutex_);
      observed = last_.jobs;
    }
    std::vector<Job> due = primary_unreadable_ ? std::vector<Job>{} : schedule_.due(observed, now);
    if (!due.empty()) {
      try {
        run_job(due.front());
      } catch (const Error& error) {
        if (error.code() != ExitCode::interrupted) throw;
        log(true, field("job", due.front().name()) + field("outcome", "abandoned") + field("reason", "asked to stop"));
        break;
      }
      continue;  // look again: the next job may be due already
    }
    if (!caught_up_) {
      caught_up_ = true;
      continue;  // look again, now alerting on what is still not met
    }
    if (options_.once) break;
    int64_t wake = now + options_.observe_every_s * second_ns;
    if (auto next = schedule_.next_due(observed); next && *next < wake) wake = std::max(*next, now + second_ns / 10);
    sleep_until(wake);
  }
  log(true, field("stopped", "daemon"));
  return 0;
}

std::string Daemon::metrics() const {
  std::lock_guard lock(mutex_);
  std::ostringstream out;
  out << ops::render_metrics(last_.status.objectives);
  out << "# HELP obkeep_job_last_success_timestamp_seconds When the job last succeeded.\n"
      << "# TYPE obkeep_job_last_success_timestamp_seconds gauge\n";
  for (const auto& [job, stats] : stats_)
    if (stats.last_success_ns) out << "obkeep_job_last_success_timestamp_seconds" << labels(job) << " " << stats.last_success_ns / second_ns << "\n";
  out << "# HELP obkeep_job_duration_seconds How long the job's last run took.\n# TYPE obkeep_job_duration_seconds gauge\n";
  for (const auto& [job, stats] : stats_)
    out << "obkeep_job_duration_seconds" << labels(job) << " " << seconds_text(stats.last_duration_s) << "\n";
  out << "# HELP obkeep_job_failures_total Failed runs of the job since the daemon started.\n"
      << "# TYPE obkeep_job_failures_total counter\n";
  for (const auto& [job, stats] : stats_) out << "obkeep_job_failures_total" << labels(job) << " " << stats.failures_total << "\n";
  out << "# HELP obkeep_job_consecutive_failures Failed runs of the job since its last success.\n"
      << "# TYPE obkeep_job_consecutive_failures gauge\n";
  for (const auto& [job, stats] : stats_)
    out << "obkeep_job_consecutive_failures" << labels(job) << " " << stats.consecutive_failures << "\n";
  out << "# HELP obkeep_last_backup_duration_seconds How long the set's last backup took.\n"
      << "# TYPE obkeep_last_backup_duration_seconds gauge\n";
  for (const auto& [job, stats] : stats_)
    if (job.kind == JobKind::backup && stats.last_success_ns)
      out << "obkeep_last_backup_duration_seconds{set=\"" << job.target << "\"} " << seconds_text(stats.last_duration_s) << "\n";
  out << "# HELP obkeep_last_backup_added_bytes What the set's last backup added to the repository.\n"
      << "# TYPE obkeep_last_backup_added_bytes gauge\n";
  for (const auto& [job, stats] : stats_)
    if (job.kind == JobKind::backup && stats.last_success_ns)
      out << "obkeep_last_backup_added_bytes{set=\"" << job.target << "\"} " << stats.last_bytes_added << "\n";
  out << "# HELP obkeep_repository_size_bytes Bytes the repository stores.\n# TYPE obkeep_repository_size_bytes gauge\n";
  for (const auto& [place, bytes] : last_.repository_bytes)
    out << "obkeep_repository_size_bytes{site=\"" << place << "\"} " << bytes << "\n";
  out << "# HELP obkeep_last_verification_timestamp_seconds When the repository's packs were last read and checked.\n"
      << "# TYPE obkeep_last_verification_timestamp_seconds gauge\n";
  for (const auto& [place, time] : last_.last_verified_ns)
    out << "obkeep_last_verification_timestamp_seconds{site=\"" << place << "\"} " << time / second_ns << "\n";
  std::map<std::string, const ops::DrillRecord*> last_drill;
  for (const ops::DrillRecord& drill : last_.status.drills) last_drill[drill.site.value_or("primary")] = &drill;
  out << "# HELP obkeep_drill_measured_rto_seconds The last drill's measured recovery time.\n"
      << "# TYPE obkeep_drill_measured_rto_seconds gauge\n";
  for (const auto& [place, drill] : last_drill)
    out << "obkeep_drill_measured_rto_seconds{site=\"" << place << "\"} " << seconds_text(drill->measured_rto_s) << "\n";
  out << "# HELP obkeep_drill_passed 1 when the last drill passed.\n# TYPE obkeep_drill_passed gauge\n";
  for (const auto& [place, drill] : last_drill) out << "obkeep_drill_passed{site=\"" << place << "\"} " << (drill->passed ? 1 : 0) << "\n";
  out << "# HELP obkeep_drill_timestamp_seconds When the last drill ran.\n# TYPE obkeep_drill_timestamp_seconds gauge\n";
  for (const auto& [place, drill] : last_drill)
    out << "obkeep_drill_timestamp_seconds{site=\"" << place << "\"} " << drill->time_ns / second_ns << "\n";
  out << "# HELP obkeep_repository_readable 1 when the primary repository could be read at the last look.\n"
      << "# TYPE obkeep_repository_readable gauge\nobkeep_repository_readable " << (last_.error.empty() ? 1 : 0) << "\n";
  return out.str();
}

json Daemon::status_json() const {
  std::lock_guard lock(mutex_);
  json out = last_.status.to_json();
  if (!last_.error.empty()) out["error"] = last_.error;
  return out;
}

std::string Daemon::status_html() const {
  std::lock_guard lock(mutex_);
  ops::StatusPage page;
  page.now_ns = now_unix_nanos();
  page.window_s = options_.history_s;
  for (const ops::Objective& objective : last_.status.objectives) {
    auto points = last_.recovery_points.find(objective_key(objective));
    page.objectives.push_back({&objective, points == last_.recovery_points.end() ? std::vector<int64_t>{} : points->second});
  }
  page.drills = last_.status.drills;
  page.failures.assign(failures_.begin(), failures_.end());
  for (const auto& [job, stats] : stats_)
    page.jobs.push_back({{"job", job.name()},
                         {"last_success", stats.last_success_ns ? json(format_rfc3339(stats.last_success_ns)) : json(nullptr)},
                         {"consecutive_failures", stats.consecutive_failures}});
  return page.html();
}

}  // namespace obkeep::daemon
