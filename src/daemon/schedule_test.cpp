// The daemon's schedule: due times from what the repositories hold, catching up once after
// downtime, backing off on failure, and alerting once per change.
#include "daemon/schedule.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "daemon/verdict_watch.hpp"
#include "util/error.hpp"
#include "util/host.hpp"

namespace obkeep::daemon {

namespace {

const Job backup_databases{JobKind::backup, "databases"};
const Job backup_artifacts{JobKind::backup, "artifacts"};
const Job copy_dr1{JobKind::copy, "dr1"};
const Job verify_primary{JobKind::verify, ""};

Schedule sample_schedule() {
  return Schedule({{backup_databases, 300}, {backup_artifacts, 3600}, {copy_dr1, 300}, {verify_primary, 86400}});
}

}  // namespace

TEST(Schedule, NeverDoneIsDueAtOnceBackupsFirst) {
  Schedule schedule = sample_schedule();
  auto due = schedule.due({{copy_dr1, {std::nullopt, 0}}}, 1000 * second_ns);
  ASSERT_EQ(due.size(), 4u);
  EXPECT_EQ(due[0].kind, JobKind::backup);  // backups first
  EXPECT_EQ(due[1].kind, JobKind::backup);
  EXPECT_EQ(due[2], copy_dr1);
  EXPECT_EQ(due[3], verify_primary);
}

TEST(Schedule, DueOneIntervalAfterTheNewestRecoveryPoint) {
  Schedule schedule = sample_schedule();
  std::map<Job, Observed> observed = {{backup_databases, {1000 * second_ns, {}}},
                                      {backup_artifacts, {1000 * second_ns, {}}},
                                      {verify_primary, {1000 * second_ns, {}}}};
  EXPECT_TRUE(schedule.due(observed, 1299 * second_ns).empty());
  EXPECT_EQ(schedule.due(observed, 1300 * second_ns), std::vector<Job>{backup_databases});
  EXPECT_EQ(schedule.next_due(observed), 1300 * second_ns);
}

TEST(Schedule, AfterDowntimeAnOverdueJobRunsOnceNotOncePerMissedInterval) {
  Schedule schedule = sample_schedule();
  std::map<Job, Observed> observed = {{backup_databases, {1000 * second_ns, {}}}};
  int64_t now = 100000 * second_ns;  // many intervals later
  auto due = schedule.due(observed, now);
  ASSERT_FALSE(due.empty());
  EXPECT_EQ(due[0].kind, JobKind::backup);  // a never-run verify does not go before it
  EXPECT_EQ(std::count(due.begin(), due.end(), backup_databases), 1);
  schedule.succeeded(backup_databases, now);
  // Even before the repositories show the new snapshot, it is not due again.
  auto again = schedule.due(observed, now + 1 * second_ns);
  EXPECT_EQ(std::count(again.begin(), again.end(), backup_databases), 0);
  observed[backup_databases].last_done_ns = now;
  EXPECT_EQ(*schedule.due_at({backup_databases, 300}, observed[backup_databases]), now + 300 * second_ns);
}

TEST(Schedule, WorkDoneElsewhereIsNotRepeated) {
  Schedule schedule = sample_schedule();
  // Another machine (or this one before a restart) backed up a minute ago.
  std::map<Job, Observed> observed = {{backup_databases, {940 * second_ns, {}}}};
  auto due = schedule.due(observed, 1000 * second_ns);
  EXPECT_EQ(std::count(due.begin(), due.end(), backup_databases), 0);
}

TEST(Schedule, CopyIsDueWhenTheSiteLacksSomethingAndNotInALoop) {
  Schedule schedule = sample_schedule();
  EXPECT_FALSE(schedule.due_at({copy_dr1, 300}, {}).has_value());
  Observed behind{std::nullopt, 5000 * second_ns};
  EXPECT_EQ(*schedule.due_at({copy_dr1, 300}, behind), 5000 * second_ns);
  schedule.succeeded(copy_dr1, 5001 * second_ns);
  // Still behind after a copy that succeeded: not again before its interval.
  EXPECT_EQ(*schedule.due_at({copy_dr1, 300}, behind), 5301 * second_ns);
}

TEST(Schedule, FailuresBackOffDoublingUpToTheInterval) {
  Schedule schedule = sample_schedule();
  int64_t now = 1000 * second_ns;
  EXPECT_TRUE(schedule.failed(backup_databases, now));  // a change: alert
  EXPECT_EQ(schedule.retry_delay_s(backup_databases), 30);  // a quarter of 300 s, at most 30 s
  EXPECT_FALSE(schedule.failed(backup_databases, now));  // no new alert
  EXPECT_EQ(schedule.retry_delay_s(backup_databases), 60);
  schedule.failed(backup_databases, now);
  schedule.failed(backup_databases, now);
  schedule.failed(backup_databases, now);
  EXPECT_EQ(schedule.retry_delay_s(backup_databases), 300);  // capped at the interval
  EXPECT_EQ(*schedule.due_at({backup_databases, 300}, {}), now + 300 * second_ns);
  EXPECT_TRUE(schedule.succeeded(backup_databases, now + 400 * second_ns));  // recovered: alert
  EXPECT_FALSE(schedule.succeeded(backup_databases, now + 800 * second_ns));
  EXPECT_EQ(schedule.failures(backup_databases), 0);
}

TEST(Schedule, ShortIntervalsRetryWithinSeconds) {
  Schedule schedule({{backup_databases, 5}});
  schedule.failed(backup_databases, 0);
  EXPECT_EQ(schedule.retry_delay_s(backup_databases), 1);
  schedule.failed(backup_databases, 0);
  schedule.failed(backup_databases, 0);
  schedule.failed(backup_databases, 0);
  EXPECT_EQ(schedule.retry_delay_s(backup_databases), 5);
}

TEST(Schedule, UnknownJobIsAnError) {
  Schedule schedule = sample_schedule();
  EXPECT_THROW(schedule.failed({JobKind::drill, "dr9"}, 0), Error);
}

TEST(VerdictWatch, AlertsOncePerChange) {
  ops::Objective objective;
  objective.set = "databases";
  objective.database = "postgresql://db:5432/apimgtdb";
  objective.site = "dr1";
  VerdictWatch watch;
  objective.verdict = ops::Verdict::met;
  EXPECT_TRUE(watch.observe({objective}).empty());  // met at start: nothing to say
  objective.verdict = ops::Verdict::at_risk;
  std::vector<ops::Objective> round = {objective};
  auto changes = watch.observe(round);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].event, "objective_at_risk");
  EXPECT_EQ(changes[0].objective, &round[0]);
  EXPECT_TRUE(watch.observe(round).empty());  // still at risk: once only
  round[0].verdict = ops::Verdict::violated;
  EXPECT_EQ(watch.observe(round).at(0).event, "objective_violated");
  round[0].verdict = ops::Verdict::met;
  EXPECT_EQ(watch.observe(round).at(0).event, "objective_met");
  EXPECT_EQ(objective_key(round[0]), "databases/postgresql://db:5432/apimgtdb@dr1");
}

TEST(VerdictWatch, AlreadyViolatedAtStartIsAChange) {
  ops::Objective objective;
  objective.set = "artifacts";
  objective.home = "/opt/am";
  objective.verdict = ops::Verdict::violated;
  VerdictWatch watch;
  EXPECT_EQ(watch.observe({objective}).at(0).event, "objective_violated");
}

}  // namespace obkeep::daemon
