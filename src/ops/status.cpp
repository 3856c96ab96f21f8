// Judging the objectives against the newest snapshots of each place.
#include "ops/status.hpp"

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

Place list_place(const deploy::Config& config, const RepositoryAccess& access, const std::optional<std::string>& site) {
  Place place;
  if (!site) {
    auto repository = open_primary(access);
    place.snapshots = repo::list_snapshots(*repository);
    place.protection = protection_of(*repository);
    return place;
  }
  try {
    auto repository = open_site(find_site(config, *site), access);
    place.snapshots = repo::list_snapshots(*repository);
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
  for (Objective& objective : result.objectives) {
    auto place = result.places.find(objective.site);
    if (place == result.places.end())
      place = result.places.emplace(objective.site, list_place(config, access, objective.site)).first;
    evaluate_at(objective, place->second, result.checked_ns);
  }
  for (const Objective& objective : result.objectives) result.worst = std::max(result.worst, objective.verdict);
  return result;
}

}  // namespace obkeep::ops
