// The daemon's status page (GET /): each objective's verdict at a glance, the age of its
// newest recovery point over the last days against the RPO, the drill history (measured
// RTO against the target), and the last failures first. One self-contained HTML page.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ops/objectives.hpp"

namespace obkeep::ops {

struct ObjectiveHistory {
  const Objective* objective;
  std::vector<int64_t> recovery_points_ns;  // the times of its recovery points, oldest first
};

struct DrillRecord {
  int64_t time_ns = 0;
  std::optional<std::string> site;
  bool passed = false;
  double measured_rto_s = 0;
  std::optional<int64_t> rto_s;
  std::vector<std::string> failures;
};

struct JobFailure {
  int64_t time_ns = 0;
  std::string job;
  std::string error;
};

struct StatusPage {
  int64_t now_ns = 0;
  int64_t window_s = 7 * 86400;  // how far back the charts go
  std::vector<ObjectiveHistory> objectives;
  std::vector<DrillRecord> drills;      // oldest first
  std::vector<JobFailure> failures;     // oldest first; the page shows the last first
  nlohmann::json jobs = nlohmann::json::array();  // per job: name, last success, failures

  nlohmann::json data() const;  // what the page draws
  std::string html() const;
};

// Ages of the newest recovery point sampled at each change over [from, to]: a sawtooth
// rising with time and dropping to zero at each recovery point; [[seconds, age_s]...].
std::vector<std::pair<int64_t, int64_t>> recovery_point_ages(const std::vector<int64_t>& points_ns, int64_t from_ns,
                                                             int64_t to_ns);

}  // namespace obkeep::ops
