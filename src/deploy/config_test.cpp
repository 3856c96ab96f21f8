// The checks made when obkeep.toml is loaded: unknown keys, impossible policies, unused sites.
#include "deploy/config.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "util/error.hpp"

namespace obkeep::deploy {

namespace {

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = std::filesystem::temp_directory_path() / ("obkeep-config-test-" + std::to_string(getpid()));
    std::filesystem::create_directories(directory_);
    path_ = (directory_ / "obkeep.toml").string();
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }

  // Writes `body` after a [repository] of two lines, so the body starts at line 3.
  Config load(const std::string& body) {
    std::ofstream(path_) << "[repository]\nurl = \"/var/backups/obkeep\"\n" << body;
    return load_config(path_);
  }

  // The message of the Error that loading `body` throws; fails the test when it loads.
  std::string error_of(const std::string& body) {
    try {
      load(body);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::usage) << e.what();
      return e.what();
    }
    ADD_FAILURE() << "loaded without an error: " << body;
    return "";
  }

  std::filesystem::path directory_;
  std::string path_;
};

TEST_F(ConfigTest, EveryDocumentedKeyLoads) {
  Config config = load(R"(password_file = "pw"
[deployment]
homes = ["/opt/km"]
[sets.artifacts]
exclude = ["*.log"]
[[database]]
name = "WSO2AM_DB"
user = "u"
password_file = "db.pw"
password_env = "DB_PASSWORD"
host = "db"
port = 5432
backup_command = "dump"
restore_command = "load"
java = "/usr/bin/java"
h2_jar = "h2.jar"
quiesce_command = "stop"
resume_command = "start"
[hooks]
before_backup = "true"
after_backup = "true"
[policy.databases]
rpo = "1h"
rto = "4h"
frequency = "15m"
keep_last = 3
keep_daily = 7
keep_weekly = 4
keep_monthly = 12
sites = ["dr1"]
[[dr_site]]
name = "dr1"
url = "/srv/dr1"
password_file = "dr.pw"
sets = ["databases"]
after_backup = true
limit_upload = 1024
limit_download = 2048
[daemon]
prune_every = "12h"
verify_every = "1d"
verify_period = "14d"
drill_every = "7d"
wal_every = "1m"
copy_every = "30m"
observe_every = "10s"
history = "3d"
[alerts]
command = "/usr/local/bin/page-oncall"
webhook = "https://alerts.example/obkeep"
timeout = "5s"
)");
  EXPECT_EQ(config.policies.at("databases").frequency_s, 900);
  EXPECT_EQ(config.dr_sites.at(0).limit_download_kib, 2048u);
  EXPECT_EQ(config.daemon.prune_every_s, 43200);
  EXPECT_EQ(config.daemon.verify_period_s, 14 * 86400);
  EXPECT_EQ(config.daemon.drill_every_s, 7 * 86400);
  EXPECT_EQ(config.daemon.wal_every_s, 60);
  EXPECT_EQ(config.daemon.observe_every_s, 10);
  EXPECT_EQ(config.alerts.webhook, "https://alerts.example/obkeep");
  EXPECT_EQ(config.alerts.timeout_s, 5);
  EXPECT_TRUE(config.warnings.empty());
}

TEST_F(ConfigTest, DaemonAndAlertsDefaultsAndBadValues) {
  Config config = load("");
  EXPECT_EQ(config.daemon.verify_every_s, 86400);
  EXPECT_FALSE(config.daemon.drill_every_s.has_value());
  EXPECT_TRUE(config.alerts.command.empty());
  EXPECT_NE(error_of("[alerts]\nwebhook = \"ftp://x/hook\"\n").find(":4: alerts.webhook: must be an http:// or https:// URL"),
            std::string::npos);
  EXPECT_NE(error_of("[daemon]\nverify_every = \"7d\"\nverify_period = \"1d\"\n").find(":5: daemon.verify_period: must be at least"),
            std::string::npos);
  EXPECT_NE(error_of("[daemon]\ndrill_every = \"weekly\"\n").find(":4: daemon.drill_every:"), std::string::npos);
}

TEST_F(ConfigTest, UnknownKeyNamesFileLineKeyAndSection) {
  std::string message = error_of("[policy.databases]\nrpo = \"1h\"\nrpo_seconds = 3600\n");
  EXPECT_EQ(message.rfind(path_ + ":5: unknown key \"rpo_seconds\" in [policy.databases]", 0), 0u) << message;
  EXPECT_NE(message.find("known: rpo, rto"), std::string::npos) << message;
}

TEST_F(ConfigTest, UnknownKeysInEverySection) {
  EXPECT_NE(error_of("colour = 1\n").find(":3: unknown key \"colour\" in [repository]"), std::string::npos);
  std::ofstream(path_) << "colour = 1\n[repository]\nurl = \"/x\"\n";
  try {
    load_config(path_);
    ADD_FAILURE() << "an unknown top-level key loaded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(":1: unknown key \"colour\" at the top level"), std::string::npos) << e.what();
  }
  EXPECT_NE(error_of("[daemon]\nverify_evry = \"1d\"\n").find(":4: unknown key \"verify_evry\" in [daemon]"), std::string::npos);
  EXPECT_NE(error_of("[alerts]\nwebhok = \"http://x\"\n").find(":4: unknown key \"webhok\" in [alerts]"), std::string::npos);
  EXPECT_NE(error_of("[deployment]\nhome = []\n").find(":4: unknown key \"home\" in [deployment]"), std::string::npos);
  EXPECT_NE(error_of("[sets.instance]\nexcludes = []\n").find(":4: unknown key \"excludes\" in [sets.instance]"),
            std::string::npos);
  EXPECT_NE(error_of("[[database]]\nname = \"X\"\npasword_file = \"p\"\n").find(":5: unknown key \"pasword_file\" in [[database]]"),
            std::string::npos);
  EXPECT_NE(error_of("[[dr_site]]\nname = \"a\"\nurl = \"/x\"\nafter_backups = true\n")
                .find(":6: unknown key \"after_backups\" in [[dr_site]]"),
            std::string::npos);
  EXPECT_NE(error_of("[hooks]\nbefore = \"x\"\n").find(":4: unknown key \"before\" in [hooks]"), std::string::npos);
  EXPECT_NE(error_of("[policy.wal]\nrpo = \"1h\"\n").find("unknown key \"wal\" in [policy]"), std::string::npos);
}

TEST_F(ConfigTest, FrequencyLongerThanRpoCannotBeMet) {
  std::string message = error_of("[policy.artifacts]\nrpo = \"1h\"\nfrequency = \"2h\"\n");
  EXPECT_EQ(message, path_ + ":5: frequency \"2h\" in [policy.artifacts] is longer than its rpo \"1h\": backups that "
                             "far apart cannot meet it");
  EXPECT_NO_THROW(load("[policy.artifacts]\nrpo = \"1h\"\nfrequency = \"60m\"\n"));  // equal: met, just
}

TEST_F(ConfigTest, SiteThatNoSetUsesIsAWarning) {
  Config config = load("[[dr_site]]\nname = \"idle\"\nurl = \"/srv/idle\"\n[[dr_site]]\nname = \"listed\"\nurl = "
                       "\"/srv/l\"\nsets = [\"artifacts\"]\n[[dr_site]]\nname = \"by-policy\"\nurl = \"/srv/p\"\n"
                       "[policy.instance]\nsites = [\"by-policy\"]\n");
  ASSERT_EQ(config.warnings.size(), 1u);
  EXPECT_EQ(config.warnings[0].rfind(path_ + ":3: [[dr_site]] \"idle\" has no sets and no policy's sites names it", 0), 0u)
      << config.warnings[0];
}

TEST_F(ConfigTest, PolicyNamingAMissingSiteIsAnError) {
  std::string message = error_of("[policy.instance]\nsites = [\"dr9\"]\n");
  EXPECT_EQ(message, path_ + ":4: policy.instance.sites: no [[dr_site]] named 'dr9'");
}

TEST_F(ConfigTest, BadValueIsAUsageErrorNamingTheKey) {
  EXPECT_EQ(error_of("[policy.artifacts]\nrpo = \"1 hour\"\n"),
            path_ + ":4: policy.artifacts.rpo: bad duration unit in '1 hour' (use s, m, h, d, w)");
}

}  // namespace

TEST_F(ConfigTest, RtoKnowsWhereItIsWritten) {
  Config config = load("[policy.databases]\nrpo = \"15m\"\nrto = \"30m\"\n");
  EXPECT_EQ(config.policies.at("databases").rto_source, path_ + ":5: rto \"30m\"");
  EXPECT_EQ(config.policies.at("databases").rto_s, 1800);
}

}  // namespace obkeep::deploy
