// Status: is every recovery-point objective of the policy met right now, on the primary
// repository and on each DR site, and does each site hold what the primary sent? What
// `status` prints and a daemon serves as /status.json.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "deploy/config.hpp"
#include "deploy/discovery.hpp"
#include <nlohmann/json.hpp>

#include "ops/objectives.hpp"
#include "ops/repository_access.hpp"
#include "ops/site_audit.hpp"
#include "ops/status_page.hpp"
#include "repo/journal.hpp"
#include "repo/snapshot.hpp"

namespace obkeep::ops {

// The snapshots of one place (the primary or a DR site), or why they could not be listed,
// and what protects its objects from deletion ("none", "object lock: compliance, 30 days", …).
struct Place {
  std::vector<repo::Snapshot> snapshots;
  std::string error;
  std::string protection = "unknown";
  std::optional<SiteAudit> audit;  // a DR site: does it hold what the primary recorded sending?
  std::map<std::string, int64_t> archive_points;  // per database id: how far its WAL or binlog archive recovers
  std::vector<std::string> archive_gaps;          // the primary's: one line per gap in a binlog archive
};

struct StatusOptions {
  int64_t now_ns = 0;  // judge as of this time; 0: now
  std::string site;    // only the objectives at this DR site; empty: every place
};

struct StatusResult {
  int64_t checked_ns = 0;
  std::vector<Objective> objectives;
  std::map<std::optional<std::string>, Place> places;  // nullopt: the primary
  Verdict worst = Verdict::met;
  std::vector<DrillRecord> drills;  // from the primary's journal, oldest first
  std::vector<std::string> warnings;  // "<file>:<line>: …": an rto the last drill already missed

  // 0 all met, 4 some at risk, 5 any violated.
  int exit_code() const;
  // The last drill from a place (nullopt: the primary), if any.
  const DrillRecord* last_drill(const std::optional<std::string>& site) const;
  // The `status --json` object (and the daemon's /status.json).
  nlohmann::json to_json() const;
};

nlohmann::json objective_json(const Objective& objective);

// The drills a journal records, oldest first.
std::vector<DrillRecord> drills_of(const std::vector<repo::JournalEntry>& journal);

// "<file>:<line>: rto \"30m\" in [policy.<set>]: the last drill … took …" for each rto that the last drill from a
// place the policy keeps recovery points at (the primary, its sites) took longer than.
std::vector<std::string> rto_warnings(const deploy::Config& config, const std::vector<DrillRecord>& drills);

// Judges each objective against the newest matching snapshot of its place (in
// `status.places`) as of `status.checked_ns`, and sets `status.worst`.
void judge_objectives(StatusResult& status);

// Error when the primary cannot be read (nothing can be judged without it) or no policy
// has an rpo; a DR site that cannot be read fails only its own objectives, with the reason.
StatusResult evaluate_status(const deploy::Config& config, const deploy::Discovery& discovery,
                             const RepositoryAccess& access, const StatusOptions& options);

}  // namespace obkeep::ops
