// Copies to the DR sites of a deployment config: which snapshots a site holds, and the copy
// itself, for `copy --config` and for `backup --config` with sites marked after_backup.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "deploy/config.hpp"
#include "ops/log.hpp"
#include "ops/repository_access.hpp"
#include "repo/repository.hpp"
#include "repo/snapshot_copy.hpp"

namespace obkeep::ops {

// The sets a site holds: those it lists, and those whose policy names it; all three when
// neither says. PostgreSQL WAL archives (set=wal) go wherever the databases set goes.
std::vector<std::string> site_sets(const deploy::Config& config, const deploy::DrSite& site);

struct SiteCopyOutcome {
  repo::CopyStatistics statistics;
  uint64_t bytes_sent = 0;
  size_t snapshots_recorded = 0;  // named in the primary's new copy record
  bool site_created = false;      // the site had no repository: one related to the primary was made
};

// Copies every snapshot of `primary` (index loaded) tagged with one of `sets` that the site
// lacks, and records them in the primary (repo/copy_record.hpp). Takes a shared lock on
// the site; the caller holds one on the primary. With `create_missing`, a site without a
// repository gets one related to the primary (init --copy-params-from) first.
SiteCopyOutcome copy_to_site(repo::Repository& primary, const deploy::DrSite& site, const std::vector<std::string>& sets,
                             const RepositoryAccess& access, const Log& log, bool create_missing = false);

// One site's copy: what was sent, or why it failed.
struct SiteCopyResult {
  std::string site;
  bool ok = false;
  std::string error;
  SiteCopyOutcome outcome;
  double duration_s = 0;
};

struct CopyToSitesOptions {
  std::string site;  // only this site; empty: every [[dr_site]]
  std::function<void(const SiteCopyResult&)> on_site_done;  // as each site finishes
  bool create_missing = false;  // copy --init: a site without a repository gets one
};

// copy --config: the config's primary repository (`access`) to each of its DR sites. A
// site that fails is in the results and the others are still copied; Error (usage) for an
// unknown site or a config without sites, any Error opening the primary, and interruption.
std::vector<SiteCopyResult> copy_to_sites(const deploy::Config& config, const RepositoryAccess& access,
                                          const CopyToSitesOptions& options, const Log& log);

}  // namespace obkeep::ops
