// Alerts: the command gets the event on stdin; failures and hangs are reported, in bounded
// time, never thrown.
#include "daemon/alerts.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace obkeep::daemon {

namespace {

// obkeep ignores SIGPIPE (util/interrupt.cpp): a command that exits without reading its
// stdin must end the write with EPIPE, not the process. The tests run as obkeep does.
const bool sigpipe_ignored = [] {
  std::signal(SIGPIPE, SIG_IGN);
  return true;
}();

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / (name + "-" + std::to_string(::getpid()))).string();
}

}  // namespace

TEST(Alerts, CommandReadsTheEventOnStdin) {
  std::string out = temp_path("obkeep-alert");
  Alerts alerts({"cat > " + out, "", 10});
  ASSERT_TRUE(alerts.enabled());
  nlohmann::json event = {{"event", "backup_failed"}, {"job", "backup databases"}};
  EXPECT_TRUE(alerts.send(event).empty());
  std::ifstream file(out);
  std::stringstream text;
  text << file.rdbuf();
  EXPECT_EQ(nlohmann::json::parse(text.str()), event);
  std::filesystem::remove(out);
}

TEST(Alerts, AFailingCommandIsReported) {
  Alerts alerts({"echo no route to pager >&2; exit 3", "", 10});
  auto failures = alerts.send({{"event", "drill_failed"}});
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0], "alert command: exit 3: no route to pager");
}

TEST(Alerts, AHangingCommandIsEndedAfterTheTimeout) {
  Alerts alerts({"sleep 30", "", 1});
  auto start = std::chrono::steady_clock::now();
  auto failures = alerts.send({{"event", "objective_violated"}});
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_NE(failures[0].find("still running after 1 s"), std::string::npos) << failures[0];
  EXPECT_LT(took, std::chrono::seconds(5));
}

TEST(Alerts, AnUnreachableWebhookIsReported) {
  Alerts alerts({"", "http://127.0.0.1:9/hook", 2});  // the discard port: nothing listens
  auto failures = alerts.send({{"event", "objective_met"}});
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0].rfind("alert webhook http://127.0.0.1:9/hook: ", 0), 0u) << failures[0];
}

TEST(Alerts, NoTargetsNothingSent) {
  Alerts alerts({});
  EXPECT_FALSE(alerts.enabled());
  EXPECT_TRUE(alerts.send({{"event", "objective_met"}}).empty());
}

}  // namespace obkeep::daemon
