// `obkeep status --config FILE [--site NAME]`: is every recovery-point objective of the
// policy met right now, on the primary repository and on each DR site, and does each site
// hold what the primary sent? Exit 0 all met, 4 some at risk, 5 any violated or a site
// missing or altering a snapshot, 1 on error.
#include <cstdio>
#include <iostream>

#include "cli/common.hpp"
#include "cli/deployment_context.hpp"
#include "ops/metrics.hpp"
#include "ops/status.hpp"
#include "util/host.hpp"

namespace obkeep::cli {

using nlohmann::json;

namespace {

struct StatusCommandOptions {
  std::string now;
  std::string prometheus;
};

void print_table(const ops::StatusResult& status) {
  // The long column last: homes and database ids are paths.
  std::printf("%-9s  %-10s  %-10s  %9s  %9s  %-19s  %s\n", "verdict", "set", "site", "age", "rpo", "recovery point",
              "home or database");
  for (const ops::Objective& objective : status.objectives) {
    std::string what = objective.set == "databases" ? objective.database_name + " " + objective.database : objective.home;
    std::string newest = objective.newest_ns ? format_rfc3339(*objective.newest_ns).substr(0, 19) : "none";
    std::printf("%-9s  %-10s  %-10s  %9s  %9s  %-19s  %s\n", ops::to_string(objective.verdict), objective.set.c_str(),
                objective.site.value_or("primary").c_str(),
                objective.age_s ? format_duration(double(*objective.age_s)).c_str() : "-",
                format_duration(double(objective.rpo_s)).c_str(), newest.c_str(), what.c_str());
    if (!objective.reason.empty() && objective.verdict != ops::Verdict::met)
      std::printf("           %s\n", objective.reason.c_str());
  }
  bool drilled = false;
  for (const auto& [site, place] : status.places) {
    const ops::DrillRecord* drill = status.last_drill(site);
    if (!drill) continue;
    if (!drilled) std::printf("\nlast drill (measured recovery time)\n");
    drilled = true;
    std::optional<int64_t> rto;
    for (const ops::Objective& objective : status.objectives)
      if (objective.site == site && objective.rto_s) rto = std::min(rto.value_or(*objective.rto_s), *objective.rto_s);
    std::string against = rto ? " against an RTO of " + format_duration(double(*rto)) +
                                    (drill->measured_rto_s <= double(*rto) ? " (met)" : " (missed)")
                              : "";
    std::printf("  %-10s  %s  %s, measured RTO %s%s\n", site.value_or("primary").c_str(),
                format_rfc3339(drill->time_ns).substr(0, 19).c_str(), drill->passed ? "passed" : "failed",
                format_duration(drill->measured_rto_s).c_str(), against.c_str());
  }
  std::printf("\nprotection against deletion\n");
  for (const auto& [site, place] : status.places)
    std::printf("  %-10s  %s\n", site.value_or("primary").c_str(), place.protection.c_str());
  bool header = false;
  for (const auto& [site, place] : status.places) {
    if (!site) continue;
    if (!header) std::printf("\nDR sites against the primary's copy records\n");
    header = true;
    std::string summary = place.audit ? place.audit->summary() : !place.error.empty() ? place.error : "not compared (the primary was not read)";
    std::printf("  %-10s  %s\n", site->c_str(), summary.c_str());
    if (place.audit)
      for (const std::string& line : place.audit->finding_lines()) std::printf("              %s\n", line.c_str());
  }
}

}  // namespace

void add_status_command(CLI::App& app, Context& context) {
  auto* command = app.add_subcommand(
      "status", "are the recovery point objectives met right now, here and at DR sites, and do the sites hold what was sent?");
  auto options = std::make_shared<StatusCommandOptions>();
  command->add_option("--now", options->now, "judge as of this RFC 3339 time instead of now (audits, tests)");
  command->add_option("--prometheus", options->prometheus, "also write the objectives as Prometheus metrics to FILE");
  command->callback([&context, options] {
    context.action = [&context, options] {
      DeploymentContext deployment = load_deployment(context.global, "status");
      ops::StatusOptions judge;
      judge.now_ns = options->now.empty() ? 0 : parse_rfc3339(options->now);
      judge.site = context.global.site;
      ops::StatusResult status = ops::evaluate_status(deployment.config, deployment.discovery, deployment.primary, judge);
      if (!options->prometheus.empty()) write_file_atomically(options->prometheus, ops::render_metrics(status.objectives));
      if (!context.global.json)
        for (const std::string& warning : status.warnings) std::cerr << "obkeep: warning: " << warning << "\n";
      if (context.global.json) {
        std::cout << status.to_json().dump() << "\n";
      } else if (!context.global.quiet) {
        print_table(status);
      }
      return status.exit_code();
    };
  });
}

}  // namespace obkeep::cli
