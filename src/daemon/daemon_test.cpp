// The daemon's loop with a keeper that only pretends: what it runs, in which order, what it
// logs and alerts, and what /metrics and the status page then say.
#include "daemon/daemon.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "util/host.hpp"

namespace obkeep::daemon {

namespace {

const Job backup_databases{JobKind::backup, "databases"};
const Job copy_dr1{JobKind::copy, "dr1"};

class FakeKeeper : public Keeper {
 public:
  std::vector<JobPlan> plan() override { return {{backup_databases, 60}, {copy_dr1, 60}}; }

  Observation observe(int64_t now_ns) override {
    Observation observation;
    observation.status.checked_ns = now_ns;
    ops::Objective objective;
    objective.set = "databases";
    objective.database = "postgresql://127.0.0.1:5432/apimgtdb";
    objective.database_name = "WSO2AM_DB";
    objective.rpo_s = 900;
    objective.site = "dr1";
    // Met at the primary once backed up; at dr1 never, as the copy always fails.
    ops::evaluate(objective, std::nullopt, "", now_ns);
    observation.status.objectives.push_back(objective);
    observation.status.worst = objective.verdict;
    observation.jobs[backup_databases].last_done_ns = backed_up_ns;
    observation.jobs[copy_dr1].pending_since_ns = backed_up_ns ? backed_up_ns : std::optional<int64_t>();
    if (backed_up_ns) observation.recovery_points["databases/postgresql://127.0.0.1:5432/apimgtdb"] = {*backed_up_ns};
    return observation;
  }

  JobOutcome run(const Job& job) override {
    runs.push_back(job);
    JobOutcome outcome;
    if (job.kind == JobKind::backup) {
      backed_up_ns = now_unix_nanos();
      outcome.ok = true;
      outcome.bytes_added = 4096;
    } else {
      outcome.error = "cannot connect to dr1: Connection refused";
    }
    return outcome;
  }

  std::vector<Job> runs;
  std::optional<int64_t> backed_up_ns;
};

}  // namespace

TEST(Daemon, OnceRunsWhatIsDueLogsAndAlertsOnChanges) {
  FakeKeeper keeper;
  std::ostringstream log;
  DaemonOptions options;
  options.once = true;
  Daemon daemon(keeper, Alerts({}), options, log);
  EXPECT_EQ(daemon.run(), 0);
  // The backup first, then the copy it made due; the copy failed and backs off.
  ASSERT_EQ(keeper.runs.size(), 2u) << log.str();
  EXPECT_EQ(keeper.runs[0], backup_databases);
  EXPECT_EQ(keeper.runs[1], copy_dr1);
  std::string text = log.str();
  EXPECT_NE(text.find("obkeep job=backup target=databases state=started\n"), std::string::npos) << text;
  EXPECT_NE(text.find("job=backup target=databases outcome=ok"), std::string::npos) << text;
  EXPECT_NE(text.find("bytes_added=4096"), std::string::npos) << text;
  EXPECT_NE(text.find("job=copy target=dr1 outcome=failed"), std::string::npos) << text;
  EXPECT_NE(text.find("retry_in_s=15"), std::string::npos) << text;
  EXPECT_NE(text.find("error=\"cannot connect to dr1: Connection refused\""), std::string::npos) << text;
  EXPECT_NE(text.find("alert=copy_failed about=\"copy dr1\""), std::string::npos) << text;
  // Judged once caught up: the objective at dr1 is violated, said once.
  EXPECT_NE(text.find("alert=objective_violated"), std::string::npos) << text;

  std::string metrics = daemon.metrics();
  EXPECT_NE(metrics.find("obkeep_job_failures_total{job=\"copy\",target=\"dr1\"} 1\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("obkeep_job_consecutive_failures{job=\"backup\",target=\"databases\"} 0\n"), std::string::npos);
  EXPECT_NE(metrics.find("obkeep_last_backup_added_bytes{set=\"databases\"} 4096\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("obkeep_objective_status{set=\"databases\",database=\"postgresql://127.0.0.1:5432/apimgtdb\",site=\"dr1\"} 2\n"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("obkeep_repository_readable 1\n"), std::string::npos);

  nlohmann::json status = daemon.status_json();
  EXPECT_EQ(status["verdict"], "violated");
  ASSERT_EQ(status["objectives"].size(), 1u);
  EXPECT_EQ(status["objectives"][0]["site"], "dr1");

  std::string page = daemon.status_html();
  EXPECT_NE(page.find("\"job\":\"copy dr1\""), std::string::npos);  // the failure, in the page's data
  EXPECT_NE(page.find("<title>obkeep status</title>"), std::string::npos);
}

TEST(Daemon, FailureEventNames) {
  EXPECT_EQ(failure_event(backup_databases), "backup_failed");
  EXPECT_EQ(failure_event({JobKind::drill, ""}), "drill_failed");
}

}  // namespace obkeep::daemon
