#include "ops/metrics.hpp"

#include <sstream>

namespace obkeep::ops {

namespace {

// Label values escape backslash, double quote and newline (the text format's rules).
std::string escape(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    out += c == '\n' ? std::string("\\n") : std::string(1, c);
  }
  return out;
}

std::string labels(const Objective& objective) {
  std::string out = "{set=\"" + escape(objective.set) + "\",";
  out += objective.set == "databases" ? "database=\"" + escape(objective.database) + "\""
                                      : "home=\"" + escape(objective.home) + "\"";
  out += ",site=\"" + escape(objective.site.value_or("primary")) + "\"}";
  return out;
}

int status_value(Verdict verdict) { return verdict == Verdict::met ? 0 : verdict == Verdict::at_risk ? 1 : 2; }

}  // namespace

std::string render_metrics(const std::vector<Objective>& objectives) {
  std::ostringstream out;
  out << "# HELP obkeep_recovery_point_timestamp_seconds Time of the newest recovery point.\n"
      << "# TYPE obkeep_recovery_point_timestamp_seconds gauge\n";
  for (const Objective& objective : objectives)
    if (objective.newest_ns)
      out << "obkeep_recovery_point_timestamp_seconds" << labels(objective) << " " << *objective.newest_ns / 1000000000
          << "\n";
  out << "# HELP obkeep_rpo_seconds The recovery point objective.\n# TYPE obkeep_rpo_seconds gauge\n";
  for (const Objective& objective : objectives)
    out << "obkeep_rpo_seconds" << labels(objective) << " " << objective.rpo_s << "\n";
  out << "# HELP obkeep_objective_status 0 met, 1 at risk, 2 violated.\n# TYPE obkeep_objective_status gauge\n";
  for (const Objective& objective : objectives)
    out << "obkeep_objective_status" << labels(objective) << " " << status_value(objective.verdict) << "\n";
  return out.str();
}

}  // namespace obkeep::ops
