// Judging the objectives against the newest snapshots of each place.
#include "ops/status.hpp"

#include "ops/wal_reach.hpp"

#include "ops/binlog_archive.hpp"
#include "ops/binlog_entries.hpp"

#include "repo/copy_record.hpp"
#include "repo/snapshot_survey.hpp"
#include "repo/snapshot_tags.hpp"
#include "util/error.hpp"
#include "util/format.hpp"
#include "util/host.hpp"

namespace obkeep::ops {

namespace {

// What the store says of its protection; a store that cannot say leaves the objectives alone.
std::string protection_of(repo::Repository& repository) {
  try {
    return repository.backend().protection();
  } catch (const Error& e) {
    return std::string("unknown (") + e.what() + ")";
  }
}

// The primary must be readable (nothing can be judged without it); a DR site that cannot
// be read fails only its own objectives, with the reason. A site's damaged snapshots do not
// hide the others: they are its audit's findings (against `records`, when the primary's
// copy records could be read).
// Per database id: how far its WAL (PostgreSQL) or binlog (MariaDB) archive carries its
// newest backup; the binlog archives' gaps into `gaps`.
std::map<std::string, int64_t> archive_recovery_points(repo::Repository& repository, const std::vector<repo::Snapshot>& snapshots,
                                                       std::vector<std::string>& gaps) {
  std::map<std::string, int64_t> points = wal_recovery_points(repository, snapshots);
  BinlogArchiveReach binlog = binlog_archive_reach(repository, snapshots);
  for (const auto& [database, point] : binlog.points) points[database] = std::max(points[database], point);
  for (std::string& gap : binlog.gaps) gaps.push_back(std::move(gap));
  return points;
}

Place list_place(const deploy::Config& config, const RepositoryAccess& access, repo::Repository* primary,
                 const std::optional<std::vector<repo::CopyRecord>>& records, const std::optional<std::string>& site) {
  Place place;
  if (!site) {
    place.snapshots = repo::list_snapshots(*primary);
    place.protection = protection_of(*primary);
    place.archive_gaps = binlog_gap_warnings(place.snapshots);  // pieces an older obkeep saved as snapshots
    place.archive_points = archive_recovery_points(*primary, place.snapshots, place.archive_gaps);
    return place;
  }
  try {
    auto repository = open_site(find_site(config, *site), access);
    repo::SnapshotSurvey survey = repo::survey_snapshots(*repository);
    if (records) place.audit = audit_site(config, *site, *repository, *records, survey);
    place.snapshots = std::move(survey.readable);
    place.protection = protection_of(*repository);
    std::vector<std::string> site_gaps;  // the site's own check reports them
    place.archive_points = archive_recovery_points(*repository, place.snapshots, site_gaps);
  } catch (const Error& e) {
    if (e.code() == ExitCode::interrupted) throw;
    place.error = std::string("cannot read ") + e.what();  // "DR site NAME: …"
  }
  return place;
}

void evaluate_at(Objective& objective, const Place& place, int64_t now_ns) {
  if (!place.error.empty()) {
    evaluate(objective, std::nullopt, "", now_ns);
    objective.reason = place.error;
    return;
  }
  if (const repo::Snapshot* newest = repo::newest_with_tags(place.snapshots, objective.tags())) {
    int64_t point = objective.set == "databases" ? newest_recovery_point(*newest, place.snapshots, objective.database)
                                                 : newest->time_ns;
    // The newest base backup goes on through the WAL archive, the newest MariaDB backup
    // through the binlog archive.
    if (auto archived = place.archive_points.find(objective.database);
        objective.set == "databases" && archived != place.archive_points.end())
      point = std::max(point, archived->second);
    return evaluate(objective, point, newest->id.hex(), now_ns);
  }
  evaluate(objective, std::nullopt, "", now_ns);
}

}  // namespace

int StatusResult::exit_code() const {
  return static_cast<int>(worst == Verdict::met        ? ExitCode::ok
                          : worst == Verdict::at_risk ? ExitCode::objective_at_risk
                                                      : ExitCode::objective_violated);
}

StatusResult evaluate_status(const deploy::Config& config, const deploy::Discovery& discovery,
                             const RepositoryAccess& access, const StatusOptions& options) {
  StatusResult result;
  result.objectives = plan_objectives(config, discovery);
  if (!options.site.empty()) {
    find_site(config, options.site);  // an unknown name is a usage error, not "nothing to judge"
    std::erase_if(result.objectives, [&](const Objective& objective) { return objective.site != options.site; });
  }
  if (result.objectives.empty())
    throw Error(config.path + ": no [policy.<set>] has an rpo" + (options.site.empty() ? "" : " at DR site " + options.site) +
                ", so there is nothing to judge");
  result.checked_ns = options.now_ns ? options.now_ns : now_unix_nanos();
  // The primary holds the copy records and the journal (the drills). Judging one DR site
  // alone must not need it (it may be what was lost): then the site is judged without its
  // audit.
  std::unique_ptr<repo::Repository> primary;
  std::optional<std::vector<repo::CopyRecord>> records;
  try {
    primary = open_primary(access);
    records = repo::load_copy_records(*primary);
    result.drills = drills_of(repo::read_journal(*primary));
  } catch (const Error& e) {
    if (options.site.empty() || e.code() == ExitCode::interrupted) throw;
  }
  auto list = [&](const std::optional<std::string>& site) {
    if (!result.places.count(site)) result.places.emplace(site, list_place(config, access, primary.get(), records, site));
  };
  for (const Objective& objective : result.objectives) list(objective.site);
  if (options.site.empty())
    for (const deploy::DrSite& site : config.dr_sites) list(site.name);  // audited even without objectives
  judge_objectives(result);
  result.warnings = rto_warnings(config, result.drills);
  if (auto primary_place = result.places.find(std::nullopt); primary_place != result.places.end())
    for (const std::string& warning : primary_place->second.archive_gaps) result.warnings.push_back(warning);
  return result;
}

std::vector<std::string> rto_warnings(const deploy::Config& config, const std::vector<DrillRecord>& drills) {
  std::vector<std::string> warnings;
  for (const auto& [set, policy] : config.policies) {
    if (!policy.rto_s) continue;
    for (const auto& place : places_of(config, set, policy)) {
      const DrillRecord* last = nullptr;
      for (const DrillRecord& drill : drills)
        if (drill.site == place) last = &drill;
      if (!last || last->measured_rto_s <= double(*policy.rto_s)) continue;
      warnings.push_back(policy.rto_source + " in [policy." + set +
                         "]: the last drill from " + (place ? "DR site " + *place : std::string("the primary")) + " (" +
                         format_rfc3339(last->time_ns) + ") took " + format_duration(last->measured_rto_s));
    }
  }
  return warnings;
}

void judge_objectives(StatusResult& status) {
  status.worst = Verdict::met;
  Place unread;
  unread.error = "not read";
  for (Objective& objective : status.objectives) {
    auto place = status.places.find(objective.site);
    evaluate_at(objective, place == status.places.end() ? unread : place->second, status.checked_ns);
    status.worst = std::max(status.worst, objective.verdict);
  }
  // A site that lost or altered what it was sent, or cannot be read, is as bad as a missed RPO.
  for (const auto& [site, place] : status.places)
    if (site && (!place.error.empty() || (place.audit && !place.audit->intact()))) status.worst = Verdict::violated;
}

std::vector<DrillRecord> drills_of(const std::vector<repo::JournalEntry>& journal) {
  std::vector<DrillRecord> drills;
  for (const repo::JournalEntry& entry : journal) {
    if (entry.kind != "drill") continue;
    DrillRecord drill;
    drill.time_ns = entry.time_ns;
    drill.site = entry.site;
    drill.passed = entry.details.value("verdict", "") == "passed";
    if (entry.details.contains("measured_rto_s") && entry.details["measured_rto_s"].is_number())
      drill.measured_rto_s = entry.details["measured_rto_s"].get<double>();
    if (entry.details.contains("rto_s") && entry.details["rto_s"].is_number())
      drill.rto_s = entry.details["rto_s"].get<int64_t>();
    if (entry.details.contains("failures") && entry.details["failures"].is_array())
      for (const auto& failure : entry.details["failures"])
        if (failure.is_string()) drill.failures.push_back(failure.get<std::string>());
    drills.push_back(std::move(drill));
  }
  return drills;
}

const DrillRecord* StatusResult::last_drill(const std::optional<std::string>& site) const {
  for (auto it = drills.rbegin(); it != drills.rend(); ++it)
    if (it->site == site) return &*it;
  return nullptr;
}

nlohmann::json objective_json(const Objective& objective) {
  using nlohmann::json;
  json out = {{"set", objective.set},
              {"site", objective.site ? json(*objective.site) : json(nullptr)},
              {"newest_recovery_point", objective.newest_ns ? json(format_rfc3339(*objective.newest_ns)) : json(nullptr)},
              {"snapshot", objective.snapshot.empty() ? json(nullptr) : json(objective.snapshot)},
              {"age_s", objective.age_s ? json(*objective.age_s) : json(nullptr)},
              {"rpo_s", objective.rpo_s},
              {"rto_s", objective.rto_s ? json(*objective.rto_s) : json(nullptr)},
              {"verdict", to_string(objective.verdict)},
              {"reason", objective.reason}};
  if (objective.set == "databases") {
    out["database"] = objective.database;
    out["datasource"] = objective.database_name;
  } else {
    out["home"] = objective.home;
  }
  return out;
}

nlohmann::json StatusResult::to_json() const {
  using nlohmann::json;
  json list = json::array();
  for (const Objective& objective : objectives) {
    json entry = objective_json(objective);
    // The RTO against what the last drill from this objective's place measured.
    const DrillRecord* drill = last_drill(objective.site);
    entry["last_drill"] = nullptr;
    if (drill)
      entry["last_drill"] = {{"time", format_rfc3339(drill->time_ns)},
                             {"verdict", drill->passed ? "passed" : "failed"},
                             {"measured_rto_s", drill->measured_rto_s},
                             {"rto_met", objective.rto_s ? json(drill->measured_rto_s <= double(*objective.rto_s)) : json(nullptr)}};
    list.push_back(entry);
  }
  json protection = json::array();
  json integrity = json::array();
  for (const auto& [site, place] : places) {
    protection.push_back({{"site", site ? json(*site) : json(nullptr)}, {"protection", place.protection}});
    if (!site) continue;
    json audit = place.audit ? place.audit->to_json() : json{{"site", *site}, {"intact", false}};
    audit["error"] = place.error.empty() ? json(nullptr) : json(place.error);
    integrity.push_back(audit);
  }
  return {{"checked_at", format_rfc3339(checked_ns)},
          {"verdict", to_string(worst)},
          {"objectives", list},
          {"protection", protection},
          {"integrity", integrity},
          {"warnings", warnings}};
}


}  // namespace obkeep::ops
