// Copies to the DR sites of a deployment config: which snapshots a site holds, and the copy
// itself, shared by `copy --config` and by `backup --config` for sites with after_backup.
#pragma once

#include <string>
#include <vector>

#include "cli/cli.hpp"
#include "deploy/config.hpp"
#include "repo/repository.hpp"
#include "repo/snapshot_copy.hpp"

namespace obkeep::cli {

// The sets a site holds: those it lists, and those whose policy names it; all three when
// neither says. PostgreSQL WAL archives (set=wal) go wherever the databases set goes.
std::vector<std::string> site_sets(const deploy::Config& config, const deploy::DrSite& site);

// The site of that name; Error (usage) naming the config's sites when there is none.
const deploy::DrSite& find_site(const deploy::Config& config, const std::string& name);
// Opens a site's repository with its password_file (or the main password when it has
// none), held to its limit_upload/limit_download unless the command line says otherwise;
// errors name the site.
std::unique_ptr<repo::Repository> open_site(const deploy::DrSite& site, const GlobalOptions& global);

struct SiteCopyOutcome {
  repo::CopyStatistics statistics;
  uint64_t bytes_sent = 0;
  size_t snapshots_recorded = 0;  // named in the primary's new copy record
};

// Copies every snapshot of `primary` (index loaded) tagged with one of `sets` that the site
// lacks, and records them in the primary (repo/copy_record.hpp). Takes a shared lock on
// the site; the caller holds one on the primary.
SiteCopyOutcome copy_to_site(repo::Repository& primary, const deploy::DrSite& site, const std::vector<std::string>& sets,
                             const GlobalOptions& global);

}  // namespace obkeep::cli
