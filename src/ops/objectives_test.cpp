// Objectives: which ones a policy asks for, and the verdict rules at their edges.
#include "ops/objectives.hpp"

#include "ops/status.hpp"
#include "util/host.hpp"

#include <gtest/gtest.h>

namespace obkeep::ops {

namespace {

deploy::Discovery two_homes_one_database() {
  deploy::Discovery discovery;
  discovery.homes = {"/opt/km", "/opt/am"};
  deploy::Database database;
  database.engine = deploy::Engine::postgresql;
  database.database = "apimgtdb";
  database.id = "postgresql://db:5432/apimgtdb";
  database.datasources = {"WSO2AM_DB"};
  database.method = "pg_dump";
  discovery.databases.push_back(database);
  return discovery;
}

}  // namespace

TEST(Objectives, OnePerSetHomeOrDatabaseAndPlace) {
  deploy::Config config;
  config.policies["databases"].rpo_s = 900;
  config.policies["databases"].sites = {"dr1"};
  config.policies["artifacts"].rpo_s = 86400;
  config.policies["instance"].keep_last = 3;  // no rpo: no objective
  config.dr_sites.push_back({"dr1", "/dr1", "", {}, false, {}, {}, {}});
  config.dr_sites.push_back({"dr2", "/dr2", "", {"artifacts"}, false, {}, {}, {}});
  auto objectives = plan_objectives(config, two_homes_one_database());
  // databases: 1 database × (primary, dr1); artifacts: 2 homes × (primary, dr2).
  ASSERT_EQ(objectives.size(), 6u);
  int databases = 0, artifacts = 0, at_dr1 = 0, at_dr2 = 0;
  for (const Objective& objective : objectives) {
    databases += objective.set == "databases";
    artifacts += objective.set == "artifacts";
    at_dr1 += objective.site == std::optional<std::string>("dr1");
    at_dr2 += objective.site == std::optional<std::string>("dr2");
  }
  EXPECT_EQ(databases, 2);
  EXPECT_EQ(artifacts, 4);
  EXPECT_EQ(at_dr1, 1);
  EXPECT_EQ(at_dr2, 2);
  EXPECT_EQ(objectives[0].tags(), (std::vector<std::string>{"set=databases", "database=postgresql://db:5432/apimgtdb"}));
  EXPECT_EQ(objectives[0].database_name, "WSO2AM_DB");
}

TEST(Objectives, VerdictsAtTheirEdges) {
  Objective objective;
  objective.rpo_s = 3600;
  objective.frequency_s = 900;
  int64_t now = 1'000'000 * second_ns;
  evaluate(objective, std::nullopt, "", now);
  EXPECT_EQ(objective.verdict, Verdict::violated);
  EXPECT_FALSE(objective.age_s);
  evaluate(objective, now - 2700 * second_ns, "a", now);  // exactly RPO − frequency: met
  EXPECT_EQ(objective.verdict, Verdict::met);
  EXPECT_EQ(*objective.age_s, 2700);
  evaluate(objective, now - 2701 * second_ns, "a", now);
  EXPECT_EQ(objective.verdict, Verdict::at_risk);
  evaluate(objective, now - 3600 * second_ns, "a", now);  // exactly the RPO: still at risk
  EXPECT_EQ(objective.verdict, Verdict::at_risk);
  evaluate(objective, now - 3601 * second_ns, "a", now);
  EXPECT_EQ(objective.verdict, Verdict::violated);
  evaluate(objective, now + 60 * second_ns, "a", now);  // a clock ahead of ours: age 0, not negative
  EXPECT_EQ(*objective.age_s, 0);
  objective.frequency_s.reset();  // without a frequency the margin is a quarter of the RPO
  evaluate(objective, now - 2701 * second_ns, "a", now);
  EXPECT_EQ(objective.verdict, Verdict::at_risk);
  evaluate(objective, now - 2699 * second_ns, "a", now);
  EXPECT_EQ(objective.verdict, Verdict::met);
}

TEST(Objectives, AnRtoTheLastDrillMissedIsNamedWithItsLine) {
  deploy::Config config;
  config.policies["databases"].rto_s = 600;
  config.policies["databases"].rto_source = "/etc/obkeep.toml:7: rto \"10m\"";
  config.policies["databases"].sites = {"dr1"};
  config.dr_sites.push_back({});
  config.dr_sites.back().name = "dr1";
  config.policies["artifacts"].rpo_s = 3600;  // no rto: nothing to say
  auto drill = [](std::optional<std::string> site, double seconds) {
    DrillRecord record;
    record.time_ns = 1764633600 * second_ns;  // 2025-12-02T00:00:00Z
    record.site = std::move(site);
    record.measured_rto_s = seconds;
    return record;
  };
  // From the primary: slow once, then fast (the last one counts); from dr1: slow.
  std::vector<DrillRecord> drills = {drill(std::nullopt, 900), drill(std::nullopt, 300), drill("dr1", 700)};
  std::vector<std::string> warnings = rto_warnings(config, drills);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].rfind("/etc/obkeep.toml:7: rto \"10m\" in [policy.databases]: ", 0), 0u) << warnings[0];
  EXPECT_NE(warnings[0].find("the last drill from DR site dr1 (2025-12-02T00:00:00"), std::string::npos) << warnings[0];
  // A drill from a site the policy does not use says nothing about it.
  config.policies["databases"].sites.clear();
  EXPECT_TRUE(rto_warnings(config, drills).empty());
}

}  // namespace obkeep::ops
