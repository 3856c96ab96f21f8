#include "daemon/schedule.hpp"

#include <algorithm>
#include <limits>

#include "util/error.hpp"
#include "util/host.hpp"

namespace obkeep::daemon {

Schedule::Schedule(std::vector<JobPlan> plans) : plans_(std::move(plans)) {}

const JobPlan& Schedule::plan_of(const Job& job) const {
  for (const JobPlan& plan : plans_)
    if (plan.job == job) return plan;
  throw Error("no such job in the schedule: " + job.name());
}

std::optional<int64_t> Schedule::due_at(const JobPlan& plan, const Observed& observed) const {
  auto state = states_.find(plan.job);
  int64_t last_success = state == states_.end() ? 0 : state->second.last_success_ns;
  int64_t due = 0;
  if (plan.job.kind == JobKind::copy) {
    // Due once the site lacks something, but not more often than its interval: a copy
    // that leaves the site behind (a set it does not hold) must not run in a loop.
    if (!observed.pending_since_ns) return std::nullopt;
    due = *observed.pending_since_ns;
    if (last_success) due = std::max(due, last_success + plan.interval_s * second_ns);
  } else {
    // The repositories may lag what this process just did (a listing cached elsewhere).
    int64_t last_done = std::max(observed.last_done_ns.value_or(0), last_success);
    due = last_done ? last_done + plan.interval_s * second_ns : 0;
  }
  if (state != states_.end() && state->second.failures > 0)
    due = std::max(due, state->second.last_failure_ns + retry_delay_s(plan.job) * second_ns);
  return due;
}

std::vector<Job> Schedule::due(const std::map<Job, Observed>& observed, int64_t now_ns) const {
  std::vector<std::pair<int64_t, Job>> ready;
  for (const JobPlan& plan : plans_) {
    auto found = observed.find(plan.job);
    auto at = due_at(plan, found == observed.end() ? Observed{} : found->second);
    if (at && *at <= now_ns) ready.emplace_back(*at, plan.job);
  }
  std::sort(ready.begin(), ready.end(), [](const auto& a, const auto& b) {
    if (a.second.kind != b.second.kind) return a.second.kind < b.second.kind;
    return a.first < b.first;
  });
  std::vector<Job> jobs;
  for (auto& [at, job] : ready) jobs.push_back(std::move(job));
  return jobs;
}

std::optional<int64_t> Schedule::next_due(const std::map<Job, Observed>& observed) const {
  std::optional<int64_t> next;
  for (const JobPlan& plan : plans_) {
    auto found = observed.find(plan.job);
    auto at = due_at(plan, found == observed.end() ? Observed{} : found->second);
    if (at && (!next || *at < *next)) next = at;
  }
  return next;
}

bool Schedule::succeeded(const Job& job, int64_t now_ns) {
  plan_of(job);
  State& state = states_[job];
  bool changed = state.known && state.failures > 0;
  state.known = true;
  state.failures = 0;
  state.last_success_ns = now_ns;
  return changed;
}

bool Schedule::failed(const Job& job, int64_t now_ns) {
  plan_of(job);
  State& state = states_[job];
  bool changed = state.failures == 0;
  state.known = true;
  state.failures++;
  state.last_failure_ns = now_ns;
  return changed;
}

int Schedule::failures(const Job& job) const {
  auto state = states_.find(job);
  return state == states_.end() ? 0 : state->second.failures;
}

int64_t Schedule::retry_delay_s(const Job& job) const {
  int64_t interval = std::max<int64_t>(1, plan_of(job).interval_s);
  int64_t base = std::clamp<int64_t>(interval / 4, 1, 30);
  int64_t cap = std::clamp<int64_t>(interval, base, 3600);
  int64_t delay = base;
  for (int i = 1; i < failures(job) && delay < cap; i++) delay *= 2;
  return std::min(delay, cap);
}

}  // namespace obkeep::daemon
