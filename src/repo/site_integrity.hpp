// Tamper evidence: what a DR site holds against what the primary recorded sending there.
// See docs/design.md, "Tamper evidence".
#pragma once

#include <map>
#include <string>
#include <vector>

#include "repo/copy_record.hpp"
#include "repo/forget_policy.hpp"
#include "repo/snapshot_survey.hpp"

namespace obkeep::repo {

struct SentFinding {
  SentSnapshot snapshot;
  std::string detail;  // altered: why its object no longer reads
};

struct SiteIntegrity {
  size_t recorded = 0;            // snapshots the records name
  size_t present = 0;             // of those, at the site and readable
  size_t gone_by_keep_rules = 0;  // absent, but the site's keep rules would have forgotten them
  std::vector<SentFinding> missing;
  std::vector<SentFinding> altered;
  size_t archive_ends = 0;                     // archives (WAL stanzas, binlogs) whose newest entry is recorded
  std::vector<SentArchiveEnd> archive_missing;  // of those, the newest entry no longer at the site

  bool intact() const { return missing.empty() && altered.empty() && archive_missing.empty(); }
};

// Each recorded snapshot is present (its object is at the site, hashes to its name and
// opens), altered (its name is there, its object does not), or absent. An absent one is
// gone by the keep rules when `keep_rules` has rules for its set (its set= tag) and those
// rules, applied to every snapshot of the set known to have been at the site (recorded or
// present), forget it; otherwise it is missing. Keep rules forget a snapshot only for
// newer ones, so a forget run at the site earlier, with fewer snapshots, agrees.
SiteIntegrity compare_with_record(const std::vector<SentSnapshot>& recorded, const SnapshotSurvey& site,
                                  const std::map<std::string, KeepRules>& keep_rules);

// Each archive's recorded newest entry is at the site (one existence check each), or it is
// missing: retention removes the oldest entries, never the newest, so the archive was cut.
void compare_archive_ends(const std::vector<SentArchiveEnd>& recorded, Repository& site, SiteIntegrity& integrity);

// "snapshot 1a2b3c4d (primary 9f8e7d6c) of 2026-11-25 05:04:36 UTC, set=artifacts home=/opt/x":
// what a person needs to find the snapshot at the site and on the primary.
std::string describe_sent(const SentSnapshot& snapshot);
// "2026-11-25 05:04:36 UTC": a time in findings.
std::string describe_time(int64_t unix_ns);

}  // namespace obkeep::repo
