// What a recovery drill measured, and its report as JSON and as a self-contained HTML page.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace obkeep::ops {

struct DrillStep {
  std::string name;
  double start_s = 0;  // from the drill's start; steps of different homes and databases overlap
  double duration_s = 0;
  bool ok = false;
  std::string detail;
};

struct DrillResult {
  std::string repository;          // where the drill restored from
  std::optional<std::string> site;  // a DR site's name; nullopt for the primary
  int64_t started_ns = 0;
  std::string sandbox;
  std::vector<DrillStep> steps;
  double measured_rto_s = 0;             // wall time from the open to the last step's end
  std::optional<int64_t> achieved_rpo_s;  // drill start − the oldest recovery point restored
  std::optional<int64_t> rto_s, rpo_s;    // the strictest of the policies
  std::vector<std::string> failures;     // why the drill failed; empty when it passed

  bool passed() const { return failures.empty(); }
  nlohmann::json to_json(const std::string& report_path) const;
  std::string to_html() const;
};

}  // namespace obkeep::ops
