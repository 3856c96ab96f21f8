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

struct Options {
  std::string now;
  std::string prometheus;
};

json objective_json(const ops::Objective& objective) {
  json out = {{"set", objective.set},
              {"site", objective.site ? json(*objective.site) : json(nullptr)},
              {"newest_recovery_point", objective.newest_ns ? json(format_rfc3339(*objective.newest_ns)) : json(nullptr)},
              {"snapshot", objective.snapshot.empty() ? json(nullptr) : json(objective.snapshot)},
              {"age_s", objective.age_s ? json(*objective.age_s) : json(nullptr)},
              {"rpo_s", objective.rpo_s},
              {"rto_s", objective.rto_s ? json(*objective.rto_s) : json(nullptr)},
              {"verdict", ops::to_string(objective.verdict)},
              {"reason", objective.reason}};
  if (objective.set == "databases") {
    out["database"] = objective.database;
    out["datasource"] = objective.database_name;
  } else {
    out["home"] = objective.home;
  }
  return out;
}

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
  auto options = std::make_shared<Options>();
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
      if (context.global.json) {
        json list = json::array();
        for (const ops::Objective& objective : status.objectives) list.push_back(objective_json(objective));
        json protection = json::array();
        json integrity = json::array();
        for (const auto& [site, place] : status.places) {
          protection.push_back({{"site", site ? json(*site) : json(nullptr)}, {"protection", place.protection}});
          if (!site) continue;
          json audit = place.audit ? place.audit->to_json() : json{{"site", *site}, {"intact", false}};
          audit["error"] = place.error.empty() ? json(nullptr) : json(place.error);
          integrity.push_back(audit);
        }
        std::cout << json{{"checked_at", format_rfc3339(status.checked_ns)},
                          {"verdict", ops::to_string(status.worst)},
                          {"objectives", list},
                          {"protection", protection},
                          {"integrity", integrity}}
                         .dump()
                  << "\n";
      } else if (!context.global.quiet) {
        print_table(status);
      }
      return status.exit_code();
    };
  });
}

}  // namespace obkeep::cli
