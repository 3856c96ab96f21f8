// Alerts: each event, one JSON object, goes to `[alerts] command` on its stdin and/or is
// POSTed to `[alerts] webhook`. Delivery is bounded in time and never throws: an alert that
// cannot be sent is reported to the caller (who logs it) and must not stop the daemon.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace obkeep::daemon {

struct AlertTargets {
  std::string command;  // run with /bin/sh -c
  std::string webhook;  // http:// or https:// URL
  int timeout_s = 10;   // for each delivery
};

class Alerts {
 public:
  explicit Alerts(AlertTargets targets) : targets_(std::move(targets)) {}

  bool enabled() const { return !targets_.command.empty() || !targets_.webhook.empty(); }

  // Delivers `event` to every target; returns one line per target that failed.
  std::vector<std::string> send(const nlohmann::json& event) const;

 private:
  std::string run_command(const std::string& body) const;
  std::string post_webhook(const std::string& body) const;

  AlertTargets targets_;
};

}  // namespace obkeep::daemon
