// Copying a primary repository's snapshots to the DR sites its config names.
#include "ops/site_copy.hpp"

#include <algorithm>
#include <chrono>

#include "repo/copy_record.hpp"
#include "repo/lock.hpp"
#include "util/error.hpp"

namespace obkeep::ops {

std::vector<std::string> site_sets(const deploy::Config& config, const deploy::DrSite& site) {
  std::vector<std::string> sets = site.sets;
  for (const auto& [set, policy] : config.policies)
    if (std::find(policy.sites.begin(), policy.sites.end(), site.name) != policy.sites.end() &&
        std::find(sets.begin(), sets.end(), set) == sets.end())
      sets.push_back(set);
  if (sets.empty()) sets.assign(std::begin(deploy::set_names), std::end(deploy::set_names));
  if (std::find(sets.begin(), sets.end(), "databases") != sets.end()) sets.push_back("wal");
  return sets;
}

SiteCopyOutcome copy_to_site(repo::Repository& primary, const deploy::DrSite& site, const std::vector<std::string>& sets,
                             const RepositoryAccess& access, const Log& log, bool create_missing) {
  bool created = false;
  std::unique_ptr<repo::Repository> destination =
      create_missing ? open_or_create_site(site, access, [&]() -> const repo::Repository& { return primary; }, &created) : open_site(site, access);
  repo::RepositoryLock lock(*destination, false);
  repo::SnapshotCopier copier(primary, *destination, repo::ready_copy_destination(*destination, created));
  if (!copier.related())
    log(LogLevel::note, "obkeep: DR site " + site.name + " is not related to the primary (make it with init "
                        "--copy-params-from): every blob is read and hashed again\n");
  repo::CopyLog log_of_copies(primary, *destination, site.name);
  uint64_t stored_before = destination->statistics().bytes_stored;
  for (const repo::Snapshot& snapshot : repo::list_snapshots(primary)) {
    bool wanted = std::any_of(sets.begin(), sets.end(), [&](const std::string& set) { return snapshot.has_tag("set=" + set); });
    if (wanted) log_of_copies.note(snapshot, copier.copy(snapshot));
  }
  // WAL files and binlog pieces are archive entries, not snapshots: the copy record names
  // the newest of each archive, which the site must keep.
  if (std::find(sets.begin(), sets.end(), "wal") != sets.end())
    copier.copy_archive_entries([&](const repo::ArchiveEntry& entry) { log_of_copies.note_archive_entry(entry); });
  // After every snapshot is at the site: a record never names what the site was not given.
  size_t recorded = log_of_copies.save();
  return {copier.statistics(), destination->statistics().bytes_stored - stored_before, recorded, created};
}

std::vector<SiteCopyResult> copy_to_sites(const deploy::Config& config, const RepositoryAccess& access,
                                          const CopyToSitesOptions& options, const Log& log) {
  std::vector<const deploy::DrSite*> sites;
  if (!options.site.empty()) sites.push_back(&find_site(config, options.site));
  for (const deploy::DrSite& site : config.dr_sites)
    if (options.site.empty()) sites.push_back(&site);
  if (sites.empty()) throw Error(config.path + " has no [[dr_site]]", ExitCode::usage);
  auto primary = open_primary(access);
  repo::RepositoryLock lock(*primary, false, [&] { primary->load_index(); });
  std::vector<SiteCopyResult> results;
  for (const deploy::DrSite* site : sites) {
    auto start = std::chrono::steady_clock::now();
    SiteCopyResult result;
    result.site = site->name;
    try {
      result.outcome = copy_to_site(*primary, *site, site_sets(config, *site), access, log, options.create_missing);
      result.ok = true;
    } catch (const Error& e) {
      if (e.code() == ExitCode::interrupted) throw;
      result.error = e.what();
    }
    result.duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (options.on_site_done) options.on_site_done(result);
    results.push_back(std::move(result));
  }
  return results;
}

}  // namespace obkeep::ops
