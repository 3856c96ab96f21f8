#include "ops/drill_report.hpp"

#include <cstdio>
#include <sstream>

#include "util/host.hpp"

namespace obkeep::ops {

namespace {

std::string escape_html(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string seconds(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f s", value);
  return text;
}

nlohmann::json optional_json(const std::optional<int64_t>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json DrillResult::to_json(const std::string& report_path) const {
  nlohmann::json steps_json = nlohmann::json::array();
  for (const DrillStep& step : steps)
    steps_json.push_back({{"name", step.name}, {"duration_s", step.duration_s}, {"ok", step.ok}, {"detail", step.detail}});
  return {{"message_type", "drill"},
          {"verdict", passed() ? "passed" : "failed"},
          {"failures", failures},
          {"site", site ? nlohmann::json(*site) : nlohmann::json(nullptr)},
          {"started_at", format_rfc3339(started_ns)},
          {"measured_rto_s", measured_rto_s},
          {"achieved_rpo_s", optional_json(achieved_rpo_s)},
          {"rto_s", optional_json(rto_s)},
          {"rpo_s", optional_json(rpo_s)},
          {"steps", steps_json},
          {"report_html", report_path}};
}

std::string DrillResult::to_html() const {
  std::ostringstream html;
  html << "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>obkeep recovery drill</title>\n"
       << "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
       << "td,th{border:1px solid #999;padding:4px 8px;text-align:left}.ok{color:#060}.failed{color:#b00}</style>"
       << "</head><body>\n<h1>Recovery drill: <span class=\"" << (passed() ? "ok\">passed" : "failed\">failed")
       << "</span></h1>\n<table>\n"
       << "<tr><th>started</th><td>" << escape_html(format_rfc3339(started_ns)) << "</td></tr>\n"
       << "<tr><th>restored from</th><td>" << escape_html(site ? "DR site " + *site : std::string("primary")) << " ("
       << escape_html(repository) << ")</td></tr>\n"
       << "<tr><th>sandbox</th><td>" << escape_html(sandbox) << "</td></tr>\n"
       << "<tr><th>measured recovery time</th><td>" << seconds(measured_rto_s) << "</td></tr>\n"
       << "<tr><th>RTO</th><td>" << (rto_s ? std::to_string(*rto_s) + " s" : "not set") << "</td></tr>\n"
       << "<tr><th>achieved recovery point</th><td>"
       << (achieved_rpo_s ? std::to_string(*achieved_rpo_s) + " s before the drill" : "none") << "</td></tr>\n"
       << "<tr><th>RPO</th><td>" << (rpo_s ? std::to_string(*rpo_s) + " s" : "not set") << "</td></tr>\n</table>\n";
  if (!failures.empty()) {
    html << "<h2>Why it failed</h2>\n<ul>\n";
    for (const std::string& failure : failures) html << "<li>" << escape_html(failure) << "</li>\n";
    html << "</ul>\n";
  }
  html << "<h2>Steps</h2>\n<table>\n<tr><th>step</th><th>time</th><th>result</th><th>detail</th></tr>\n";
  for (const DrillStep& step : steps)
    html << "<tr><td>" << escape_html(step.name) << "</td><td>" << seconds(step.duration_s) << "</td><td class=\""
         << (step.ok ? "ok\">ok" : "failed\">failed") << "</td><td>" << escape_html(step.detail) << "</td></tr>\n";
  html << "</table>\n</body></html>\n";
  return html.str();
}

}  // namespace obkeep::ops
