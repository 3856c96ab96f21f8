// Judging the objectives against the newest snapshots of each place.
#include "ops/status.hpp"

#include "repo/copy_record.hpp"
#include "repo/snapshot_survey.hpp"
#include "util/error.hpp"
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
Place list_place(const deploy::Config& config, const RepositoryAccess& access, repo::Repository* primary,
                 const std::optional<std::vector<repo::CopyRecord>>& records, const std::optional<std::string>& site) {
  Place place;
  if (!site) {
    place.snapshots = repo::list_snapshots(*primary);
    place.protection = protection_of(*primary);
    return place;
  }
  try {
    auto repository = open_site(find_site(config, *site), access);
    repo::SnapshotSurvey survey = repo::survey_snapshots(*repository);
    if (records) place.audit = audit_site(config, *site, repository->config().id.hex(), *records, survey);
    place.snapshots = std::move(survey.readable);
    place.protection = protection_of(*repository);
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
  std::vector<std::string> tags = objective.tags();
  for (auto it = place.snapshots.rbegin(); it != place.snapshots.rend(); ++it) {
    bool match = true;
    for (const std::string& tag : tags) match = match && it->has_tag(tag);
    if (match) return evaluate(objective, it->time_ns, it->id.hex(), now_ns);
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
  // The primary holds the copy records. Judging one DR site alone must not need it (it may
  // be what was lost): then the site is judged without its audit.
  std::unique_ptr<repo::Repository> primary;
  std::optional<std::vector<repo::CopyRecord>> records;
  try {
    primary = open_primary(access);
    records = repo::load_copy_records(*primary);
  } catch (const Error& e) {
    if (options.site.empty() || e.code() == ExitCode::interrupted) throw;
  }
  auto place_of = [&](const std::optional<std::string>& site) -> const Place& {
    auto place = result.places.find(site);
    if (place == result.places.end())
      place = result.places.emplace(site, list_place(config, access, primary.get(), records, site)).first;
    return place->second;
  };
  for (Objective& objective : result.objectives) evaluate_at(objective, place_of(objective.site), result.checked_ns);
  if (options.site.empty())
    for (const deploy::DrSite& site : config.dr_sites) place_of(site.name);  // audited even without objectives
  for (const Objective& objective : result.objectives) result.worst = std::max(result.worst, objective.verdict);
  // A site that lost or altered what it was sent, or cannot be read, is as bad as a missed RPO.
  for (const auto& [site, place] : result.places)
    if (site && (!place.error.empty() || (place.audit && !place.audit->intact()))) result.worst = Verdict::violated;
  return result;
}

}  // namespace obkeep::ops
