// `obkeep status --config FILE`: is every recovery-point objective of the policy met right
// now, on the primary repository and on each DR site, and does each site hold what the
// primary sent? Exit 0 all met, 4 some at risk, 5 any violated or a site missing or
// altering a snapshot, 1 on error.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>

#include "cli/common.hpp"
#include "cli/deployment_context.hpp"
#include "cli/site_copy.hpp"
#include "ops/metrics.hpp"
#include "ops/objectives.hpp"
#include "ops/site_audit.hpp"
#include "repo/copy_record.hpp"
#include "repo/snapshot.hpp"
#include "util/error.hpp"
#include "util/host.hpp"

namespace obkeep::cli {

using nlohmann::json;

namespace {

struct Options {
  std::string config;
  std::string now;
  std::string prometheus;
};

// The snapshots of one place (the primary or a DR site), or why they could not be listed,
// what protects its objects from deletion ("none", "object lock: compliance, 30 days", …),
// and for a site whether it holds what the primary recorded sending.
struct Place {
  std::vector<repo::Snapshot> snapshots;
  std::string error;
  std::string protection = "unknown";
  std::optional<ops::SiteAudit> audit;
};

// What the store says of its protection; a store that cannot say leaves the objectives alone.
std::string protection_of(repo::Repository& repository) {
  try {
    return repository.backend().protection();
  } catch (const Error& e) {
    return std::string("unknown (") + e.what() + ")";
  }
}

// The primary must be readable (status cannot judge anything without it: exit 1); a DR
// site that cannot be read fails only its own objectives, with the reason. A site's
// damaged snapshots do not hide the others: they are the audit's findings.
Place list_place(const DeploymentContext& deployment, repo::Repository& primary,
                 const std::vector<repo::CopyRecord>& records, const std::optional<std::string>& site) {
  Place place;
  if (!site) {
    place.snapshots = repo::list_snapshots(primary);
    place.protection = protection_of(primary);
    return place;
  }
  try {
    auto repository = open_site(find_site(deployment.config, *site), deployment.global);
    repo::SnapshotSurvey survey = repo::survey_snapshots(*repository);
    place.audit = ops::audit_site(deployment.config, *site, repository->config().id.hex(), records, survey);
    place.snapshots = std::move(survey.readable);
    place.protection = protection_of(*repository);
  } catch (const Error& e) {
    place.error = std::string("cannot read ") + e.what();  // "DR site NAME: …"
  }
  return place;
}

void evaluate_at(ops::Objective& objective, const Place& place, int64_t now_ns) {
  if (!place.error.empty()) {
    ops::evaluate(objective, std::nullopt, "", now_ns);
    objective.reason = place.error;
    return;
  }
  std::vector<std::string> tags = objective.tags();
  for (auto it = place.snapshots.rbegin(); it != place.snapshots.rend(); ++it) {
    bool match = true;
    for (const std::string& tag : tags) match = match && it->has_tag(tag);
    if (match) return ops::evaluate(objective, it->time_ns, it->id.hex(), now_ns);
  }
  ops::evaluate(objective, std::nullopt, "", now_ns);
}

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

}  // namespace

void add_status_command(CLI::App& app, Context& context) {
  auto* command = app.add_subcommand("status", "are the recovery point objectives met right now, here and at DR sites, and do the sites hold what was sent?");
  auto options = std::make_shared<Options>();
  command->add_option("--config", options->config, "the deployment config (obkeep.toml)")->required();
  command->add_option("--now", options->now, "judge as of this RFC 3339 time instead of now (audits, tests)");
  command->add_option("--prometheus", options->prometheus, "also write the objectives as Prometheus metrics to FILE");
  command->callback([&context, options] {
    context.action = [&context, options] {
      DeploymentContext deployment = load_deployment(context.global, options->config);
      std::vector<ops::Objective> objectives = ops::plan_objectives(deployment.config, deployment.discovery);
      if (objectives.empty())
        throw Error(options->config + ": no [policy.<set>] has an rpo, so there is nothing to judge");
      int64_t now_ns = options->now.empty() ? now_unix_nanos() : parse_rfc3339(options->now);
      auto primary = open_repository(deployment.global);
      std::vector<repo::CopyRecord> records = repo::load_copy_records(*primary);
      std::map<std::optional<std::string>, Place> places;
      auto place_of = [&](const std::optional<std::string>& site) -> const Place& {
        auto place = places.find(site);
        if (place == places.end()) place = places.emplace(site, list_place(deployment, *primary, records, site)).first;
        return place->second;
      };
      for (ops::Objective& objective : objectives) evaluate_at(objective, place_of(objective.site), now_ns);
      for (const deploy::DrSite& site : deployment.config.dr_sites) place_of(site.name);  // audited even without objectives
      ops::Verdict worst = ops::Verdict::met;
      for (const ops::Objective& objective : objectives) worst = std::max(worst, objective.verdict);
      // A site that lost or altered what it was sent, or cannot be read, is as bad as a missed RPO.
      for (const auto& [site, place] : places)
        if (site && (!place.error.empty() || (place.audit && !place.audit->intact()))) worst = ops::Verdict::violated;
      if (!options->prometheus.empty()) write_file_atomically(options->prometheus, ops::render_metrics(objectives));

      if (context.global.json) {
        json list = json::array();
        for (const ops::Objective& objective : objectives) list.push_back(objective_json(objective));
        json protection = json::array();
        json integrity = json::array();
        for (const auto& [site, place] : places) {
          protection.push_back({{"site", site ? json(*site) : json(nullptr)}, {"protection", place.protection}});
          if (!site) continue;
          json audit = place.audit ? place.audit->to_json() : json{{"site", *site}, {"intact", false}};
          audit["error"] = place.error.empty() ? json(nullptr) : json(place.error);
          integrity.push_back(audit);
        }
        std::cout << json{{"checked_at", format_rfc3339(now_ns)},
                          {"verdict", ops::to_string(worst)},
                          {"objectives", list},
                          {"protection", protection},
                          {"integrity", integrity}}
                         .dump()
                  << "\n";
      } else if (!context.global.quiet) {
        // The long column last: homes and database ids are paths.
        std::printf("%-9s  %-10s  %-10s  %9s  %9s  %-19s  %s\n", "verdict", "set", "site", "age", "rpo",
                    "recovery point", "home or database");
        for (const ops::Objective& objective : objectives) {
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
        for (const auto& [site, place] : places)
          std::printf("  %-10s  %s\n", site.value_or("primary").c_str(), place.protection.c_str());
        if (!deployment.config.dr_sites.empty()) std::printf("\nDR sites against the primary's copy records\n");
        for (const auto& [site, place] : places) {
          if (!site) continue;
          std::printf("  %-10s  %s\n", site->c_str(), place.audit ? place.audit->summary().c_str() : place.error.c_str());
          if (place.audit)
            for (const std::string& line : place.audit->finding_lines()) std::printf("              %s\n", line.c_str());
        }
      }
      return static_cast<int>(worst == ops::Verdict::met        ? ExitCode::ok
                              : worst == ops::Verdict::at_risk ? ExitCode::objective_at_risk
                                                               : ExitCode::objective_violated);
    };
  });
}

}  // namespace obkeep::cli
