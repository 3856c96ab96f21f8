#include "daemon/deployment_keeper.hpp"

#include <algorithm>
#include <chrono>
#include <set>

#include "daemon/verdict_watch.hpp"
#include "deploy/backup_sets.hpp"
#include "ops/deployment_backup.hpp"
#include "ops/drill.hpp"
#include "ops/retention.hpp"
#include "ops/site_copy.hpp"
#include "ops/status.hpp"
#include "ops/verify.hpp"
#include "ops/wal_freshness.hpp"
#include "repo/journal.hpp"
#include "repo/lock.hpp"
#include "repo/snapshot.hpp"
#include "repo/snapshot_tags.hpp"
#include "util/error.hpp"
#include "util/host.hpp"

namespace obkeep::daemon {

namespace {

std::optional<std::string> site_of(const std::string& place) {
  return place.empty() ? std::nullopt : std::optional<std::string>(place);
}
std::string place_name(const std::string& place) { return place.empty() ? "primary" : place; }

// How often a set is backed up: its frequency, else a quarter of its RPO (so a late or
// failed run leaves room before the RPO is breached); nullopt when its policy says neither.
std::optional<int64_t> backup_interval(const deploy::Config& config, const std::string& set) {
  auto policy = config.policies.find(set);
  if (policy == config.policies.end()) return std::nullopt;
  if (policy->second.frequency_s) return *policy->second.frequency_s;
  if (policy->second.rpo_s) return std::max<int64_t>(1, *policy->second.rpo_s / 4);
  return std::nullopt;
}

// The longest a PostgreSQL database's archived WAL may lag: wal_every, else as often as the
// databases set is backed up; nullopt: never looked at.
std::optional<int64_t> wal_interval(const deploy::Config& config) {
  return config.daemon.wal_every_s ? config.daemon.wal_every_s : backup_interval(config, "databases");
}

// The WAL job runs twice an interval and closes the current segment when nothing was
// archived for half of one, so the recovery point lags by about the interval at most. (Once
// an interval against the whole interval let it lag by two: measured 9.2 s at 5 s.)
std::optional<int64_t> wal_check_interval(const deploy::Config& config) {
  std::optional<int64_t> every = wal_interval(config);
  if (!every) return std::nullopt;
  return std::max<int64_t>(1, *every / 2);
}

bool has_keep_rules(const deploy::Config& config) {
  for (const char* set : deploy::set_names)
    if (!ops::policy_keep_rules(config, set).empty()) return true;
  return false;
}

// Runs `action`, timing it; an Error other than an interruption becomes a failed outcome.
JobOutcome timed(const std::function<JobOutcome()>& action) {
  auto start = std::chrono::steady_clock::now();
  JobOutcome outcome;
  try {
    outcome = action();
  } catch (const Error& error) {
    if (error.code() == ExitCode::interrupted) throw;
    outcome.ok = false;
    outcome.error = error.what();
  } catch (const std::exception& error) {
    outcome.ok = false;
    outcome.error = error.what();
  }
  outcome.duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return outcome;
}

}  // namespace

DeploymentKeeper::DeploymentKeeper(const deploy::Config& config, const deploy::Discovery& discovery,
                                   ops::RepositoryAccess access, ops::Log log)
    : config_(config), discovery_(discovery), access_(std::move(access)), log_(std::move(log)), places_(config_, access_) {}

void DeploymentKeeper::record(const std::string& kind, const std::string& place, const nlohmann::json& details) {
  repo::JournalEntry entry;
  entry.kind = kind;
  entry.time_ns = now_unix_nanos();
  entry.site = site_of(place);
  entry.hostname = hostname();
  entry.details = details;
  try {
    repo::append_journal(places_.repository(std::nullopt), entry);
  } catch (const Error& error) {
    if (error.code() == ExitCode::interrupted) throw;
    log_(ops::LogLevel::warning, "cannot record the " + kind + " of " + place_name(place) + " in the journal: " + error.what() + "\n");
  }
}

std::vector<JobPlan> DeploymentKeeper::plan() {
  std::vector<JobPlan> plans;
  std::set<std::string> present;
  for (const auto& planned : deploy::plan_backup_sets(config_, discovery_, {})) present.insert(planned.set);
  for (const char* set : deploy::set_names)
    if (auto interval = backup_interval(config_, set); interval && present.count(set))
      plans.push_back({{JobKind::backup, set}, *interval});
  const deploy::DaemonSettings& daemon = config_.daemon;
  // Each PostgreSQL database's WAL archive, at least as often as its set is backed up.
  if (auto every = wal_check_interval(config_))
    for (const deploy::Database& database : discovery_.databases)
      if (database.engine == deploy::Engine::postgresql && database.method.rfind("none", 0) != 0)
        plans.push_back({{JobKind::wal, database.id}, *every});
  for (const deploy::DrSite& site : config_.dr_sites) {
    // As often as the most frequent set it holds is backed up.
    std::optional<int64_t> interval;
    for (const std::string& set : ops::site_sets(config_, site))
      if (auto every = backup_interval(config_, set)) interval = std::min(interval.value_or(*every), *every);
    plans.push_back({{JobKind::copy, site.name}, interval.value_or(daemon.copy_every_s)});
  }
  std::vector<std::string> places = {""};
  for (const deploy::DrSite& site : config_.dr_sites) places.push_back(site.name);
  if (has_keep_rules(config_))
    for (const std::string& place : places) plans.push_back({{JobKind::prune, place}, daemon.prune_every_s});
  for (const std::string& place : places) plans.push_back({{JobKind::verify, place}, daemon.verify_every_s});
  if (daemon.drill_every_s) {
    // Drills restore from where a real recovery would: the DR sites, else the primary.
    if (config_.dr_sites.empty()) plans.push_back({{JobKind::drill, ""}, *daemon.drill_every_s});
    for (const deploy::DrSite& site : config_.dr_sites) plans.push_back({{JobKind::drill, site.name}, *daemon.drill_every_s});
  }
  return plans;
}

uint32_t DeploymentKeeper::verify_parts() const {
  const deploy::DaemonSettings& daemon = config_.daemon;
  return static_cast<uint32_t>(std::clamp<int64_t>(daemon.verify_period_s / std::max<int64_t>(1, daemon.verify_every_s), 1, 10000));
}

Observation DeploymentKeeper::observe(int64_t now_ns) {
  Observation observation;
  ops::StatusResult& status = observation.status;
  status.checked_ns = now_ns;
  auto& places = status.places;
  std::vector<repo::JournalEntry> journal;
  try {
    places[std::nullopt] = places_.list(std::nullopt, &journal);
  } catch (const Error& error) {
    if (error.code() == ExitCode::interrupted) throw;
    observation.error = error.what();
    return observation;
  }
  for (const deploy::DrSite& site : config_.dr_sites) places[site.name] = places_.list(site.name);
  status.drills = ops::drills_of(journal);
  status.warnings = ops::rto_warnings(config_, status.drills);
  status.objectives = ops::plan_objectives(config_, discovery_);
  ops::judge_objectives(status);
  for (const ops::Objective& objective : status.objectives) {
    std::vector<int64_t>& points = observation.recovery_points[objective_key(objective)];
    std::vector<std::string> tags = objective.tags();
    for (const repo::Snapshot& snapshot : places[objective.site].snapshots)
      if (repo::has_all_tags(snapshot, tags)) points.push_back(snapshot.time_ns);
  }

  auto planned = deploy::plan_backup_sets(config_, discovery_, {});
  const std::vector<repo::Snapshot>& primary = places[std::nullopt].snapshots;
  for (const JobPlan& plan : plan()) {
    const Job& job = plan.job;
    Observed& observed = observation.jobs[job];
    if (job.kind == JobKind::backup) {
      // The oldest of the set's newest points: every home and database must be kept.
      std::optional<int64_t> oldest;
      bool all = true;
      for (const auto& snapshot : planned) {
        if (snapshot.set != job.target) continue;
        const repo::Snapshot* newest = repo::newest_with_tags(primary, snapshot.tags);
        if (!newest) all = false;
        else oldest = std::min(oldest.value_or(newest->time_ns), newest->time_ns);
      }
      if (all) observed.last_done_ns = oldest;
    } else if (job.kind == JobKind::copy) {
      const ops::Place& site = places[job.target];
      if (!site.error.empty()) {
        observed.pending_since_ns = now_ns;  // unreadable: try (and fail, and back off)
        continue;
      }
      std::vector<std::string> sets = ops::site_sets(config_, ops::find_site(config_, job.target));
      for (const auto& snapshot : planned) {
        if (std::find(sets.begin(), sets.end(), snapshot.set) == sets.end()) continue;
        const repo::Snapshot* here = repo::newest_with_tags(primary, snapshot.tags);
        const repo::Snapshot* there = repo::newest_with_tags(site.snapshots, snapshot.tags);
        if (here && (!there || there->time_ns < here->time_ns))
          observed.pending_since_ns = std::min(observed.pending_since_ns.value_or(here->time_ns), here->time_ns);
      }
    } else {
      const char* kind = to_string(job.kind);
      if (const repo::JournalEntry* entry = repo::newest_entry(journal, kind, site_of(job.target)))
        observed.last_done_ns = entry->time_ns;
    }
  }

  for (const repo::JournalEntry& entry : journal) {
    if (entry.kind == "verify") {
      observation.last_verified_ns[entry.site.value_or("primary")] = entry.time_ns;
      next_verify_part_[entry.site.value_or("")] = entry.details.value("part", 0u) % entry.details.value("parts", 1u) + 1;
    }
    if (entry.details.contains("repository_bytes"))
      observation.repository_bytes[entry.site.value_or("primary")] = entry.details["repository_bytes"].get<uint64_t>();
  }
  return observation;
}

JobOutcome DeploymentKeeper::run(const Job& job) {
  switch (job.kind) {
    case JobKind::backup: return timed([&] { return backup(job.target); });
    case JobKind::wal: return timed([&] { return wal(job.target); });
    case JobKind::copy: return timed([&] { return copy(job.target); });
    case JobKind::prune: return timed([&] { return prune(job.target); });
    case JobKind::verify: return timed([&] { return verify(job.target); });
    case JobKind::drill: return timed([&] { return drill(job.target); });
  }
  return {};
}

JobOutcome DeploymentKeeper::backup(const std::string& set) {
  ops::DeploymentBackupOptions options;
  options.sets = {set};
  ops::DeploymentBackupResult result = ops::backup_deployment(config_, discovery_, access_, options, log_);
  JobOutcome outcome;
  outcome.ok = result.failed == 0;
  int snapshots = 0;
  for (const ops::SetBackupResult& backup : result.backups) {
    if (!backup.ok && outcome.error.empty()) outcome.error = backup.error.empty() ? "some files could not be read" : backup.error;
    if (backup.paths_outcome) {
      snapshots++;
      outcome.bytes_added += backup.paths_outcome->summary.value("bytes_added", uint64_t{0});
    }
    if (backup.database_outcome) {
      snapshots++;
      outcome.bytes_added += backup.database_outcome->bytes;
    }
  }
  outcome.details["snapshots"] = snapshots;
  if (result.partial) outcome.details["partial"] = result.partial;
  if (!result.copies.empty()) outcome.details["copies_failed"] = result.copies_failed;
  return outcome;
}

JobOutcome DeploymentKeeper::wal(const std::string& database_id) {
  const deploy::Database* database = nullptr;
  for (const deploy::Database& candidate : discovery_.databases)
    if (candidate.id == database_id) database = &candidate;
  if (!database) throw Error("no database " + database_id + " in the deployment");
  ops::WalFreshness freshness = ops::keep_wal_fresh(*database, wal_check_interval(config_).value_or(0));
  JobOutcome outcome;
  outcome.ok = true;
  outcome.details["archiving"] = freshness.archiving ? "on" : "off";
  if (freshness.archiving) {
    outcome.details["last_archived_wal"] = freshness.last_archived_wal;
    outcome.details["last_archived_age_s"] = freshness.last_archived_age_s;
    outcome.details["switched"] = freshness.switched;
  }
  return outcome;
}

JobOutcome DeploymentKeeper::copy(const std::string& site) {
  ops::CopyToSitesOptions options;
  options.site = site;
  std::vector<ops::SiteCopyResult> results = ops::copy_to_sites(config_, access_, options, log_);
  JobOutcome outcome;
  outcome.ok = !results.empty() && results.front().ok;
  if (!results.empty()) {
    outcome.error = results.front().error;
    outcome.bytes_added = results.front().outcome.bytes_sent;
    outcome.details["snapshots"] = results.front().outcome.statistics.snapshots_copied;
  }
  return outcome;
}

JobOutcome DeploymentKeeper::prune(const std::string& place) {
  JobOutcome outcome;
  auto repository = place.empty() ? ops::open_primary(access_) : ops::open_site(ops::find_site(config_, place), access_);
  if (repository->backend().append_only()) {
    // Only the site's own administrator can delete there; nothing to do, and no failure.
    outcome.ok = true;
    outcome.details["skipped"] = "append-only";
  } else {
    repo::RepositoryLock lock(*repository, true);
    ops::ForgetResult forgotten = ops::forget_by_policy(*repository, config_, false);
    // Forget loaded it when it rewrote the archive catalog.
    if (repository->loaded_index_files().empty()) repository->load_index();
    repo::PruneResult pruned = ops::prune_repository(*repository, false);
    outcome.ok = true;
    outcome.details = {{"forgotten", forgotten.removed}, {"archive_forgotten", forgotten.archive_removed.size()},
                       {"packs_deleted", pruned.packs_deleted},
                       {"bytes_freed", pruned.bytes_freed}, {"repository_bytes", pruned.bytes_before - pruned.bytes_freed}};
  }
  record("prune", place, outcome.details);
  return outcome;
}

JobOutcome DeploymentKeeper::verify(const std::string& place) {
  auto repository = place.empty() ? ops::open_primary(access_) : ops::open_site(ops::find_site(config_, place), access_);
  ops::VerifyOptions options;
  uint32_t parts = verify_parts();
  uint32_t part = std::min(next_verify_part_.count(place) ? next_verify_part_[place] : 1u, parts);
  options.read_part = part;
  options.read_parts = parts;
  repo::CheckResult checked = ops::verify(*repository, options);
  JobOutcome outcome;
  outcome.ok = checked.errors.empty();
  if (!outcome.ok) outcome.error = checked.errors.front() + (checked.errors.size() > 1 ? " (and " + std::to_string(checked.errors.size() - 1) + " more)" : "");
  outcome.details = {{"part", part}, {"parts", parts}, {"packs_read", checked.packs_read}, {"errors", checked.errors.size()}};
  // Holes in an archive: recovery stops there. Not a failed verification, but said.
  if (!checked.warnings.empty()) {
    outcome.details["warnings"] = checked.warnings.size();
    outcome.details["warning"] = checked.warnings.front();
  }
  if (outcome.ok) record("verify", place, outcome.details);  // a failed one is read again next time
  next_verify_part_[place] = part % parts + 1;
  return outcome;
}

JobOutcome DeploymentKeeper::drill(const std::string& place) {
  ops::DrillOptions options;
  options.site = place;
  ops::DrillResult result = ops::run_drill(config_, discovery_, access_, options);
  JobOutcome outcome;
  outcome.ok = result.passed();
  if (!outcome.ok) outcome.error = result.failures.empty() ? "failed" : result.failures.front();
  outcome.details = {{"measured_rto_s", result.measured_rto_s}, {"verdict", result.passed() ? "passed" : "failed"}};
  try {
    ops::record_drill(places_.repository(std::nullopt), result);
  } catch (const Error& error) {
    if (error.code() == ExitCode::interrupted) throw;
    log_(ops::LogLevel::warning, "cannot record the drill from " + place_name(place) + " in the journal: " + error.what() + "\n");
  }
  return outcome;
}

}  // namespace obkeep::daemon
