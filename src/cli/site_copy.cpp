#include "cli/site_copy.hpp"

#include <algorithm>
#include <iostream>

#include "cli/common.hpp"
#include "repo/copy_record.hpp"
#include "repo/lock.hpp"
#include "storage/s3/s3_url.hpp"
#include "util/error.hpp"

namespace obkeep::cli {

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

const deploy::DrSite& find_site(const deploy::Config& config, const std::string& name) {
  std::string names;
  for (const deploy::DrSite& site : config.dr_sites) {
    if (site.name == name) return site;
    names += (names.empty() ? "" : ", ") + site.name;
  }
  throw Error("no DR site named " + name + " in " + config.path + (names.empty() ? " (it has none)" : " (it has " + names + ")"),
              ExitCode::usage);
}

std::unique_ptr<repo::Repository> open_site(const deploy::DrSite& site, const GlobalOptions& global) {
  try {
    std::string password = site.password_file.empty() ? read_password(global) : read_password_file(site.password_file);
    std::string url = site.object_lock.enabled() ? storage::with_object_lock(site.url, site.object_lock) : site.url;
    return open_repository(url, password, transfer_limits(global, &site));
  } catch (const Error& e) {
    throw Error("DR site " + site.name + ": " + e.what(), e.code());
  }
}

SiteCopyOutcome copy_to_site(repo::Repository& primary, const deploy::DrSite& site, const std::vector<std::string>& sets,
                             const GlobalOptions& global) {
  std::unique_ptr<repo::Repository> destination = open_site(site, global);
  repo::RepositoryLock lock(*destination, false);
  destination->load_index();
  destination->adopt_unindexed_packs();  // a copy cut before: what it sent is not sent again
  repo::SnapshotCopier copier(primary, *destination);
  if (!copier.related() && !global.quiet)
    std::cerr << "obkeep: DR site " << site.name << " is not related to the primary (make it with init "
                 "--copy-params-from): every blob is read and hashed again\n";
  repo::CopyLog log(primary, *destination, site.name);
  uint64_t stored_before = destination->statistics().bytes_stored;
  for (const repo::Snapshot& snapshot : repo::list_snapshots(primary)) {
    bool wanted = std::any_of(sets.begin(), sets.end(), [&](const std::string& set) { return snapshot.has_tag("set=" + set); });
    if (wanted) log.note(snapshot, copier.copy(snapshot));
  }
  // After every snapshot is at the site: a record never names what the site was not given.
  size_t recorded = log.save();
  return {copier.statistics(), destination->statistics().bytes_stored - stored_before, recorded};
}

}  // namespace obkeep::cli
