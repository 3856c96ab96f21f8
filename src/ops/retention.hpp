// Retention: forgetting snapshots by keep rules (given, or each set's policy) and pruning
// the data no snapshot uses any more — `forget`, `prune`, and a daemon's clean-up.
#pragma once

#include <string>
#include <vector>

#include "deploy/config.hpp"
#include "repo/archive_entry.hpp"
#include "repo/forget_policy.hpp"
#include "repo/prune.hpp"
#include "repo/repository.hpp"

namespace obkeep::ops {

struct ForgetOptions {
  repo::KeepRules rules;
  std::vector<std::string> tags;  // only snapshots with every one of these
  std::vector<std::string> ids;   // forget these outright instead of applying rules
  std::vector<Id> protect;        // kept whatever the rules say (a point-in-time window's base)
  bool dry_run = false;
};

struct ForgetResult {
  std::vector<repo::ForgetDecision> decisions;  // every snapshot considered, newest first per group
  size_t removed = 0;
  size_t retained = 0;  // kept only because S3 Object Lock retention still holds them
  std::vector<repo::ArchiveKey> archive_removed;  // archived files no kept backup needs
};

// Error (AppendOnlyRefusal) when the repository refuses deletions, before any is made.
void require_deletions(repo::Repository& repository, const std::string& what);

// Removes the snapshots the rules do not keep (the caller holds an exclusive lock).
ForgetResult forget_snapshots(repo::Repository& repository, const ForgetOptions& options);

// The keep rules of [policy.<set>] (keep_last/daily/weekly/monthly); empty when it has none.
repo::KeepRules policy_keep_rules(const deploy::Config& config, const std::string& set);

// forget_snapshots for each set whose policy has keep rules, over that set's snapshots
// (grouped per home or database); Error (usage) when no policy has any. With
// [policy.databases] pitr_window: the backup each database's window starts from is kept,
// and the binlog archive pieces nothing kept needs are forgotten. The archived WAL files
// older than every kept base backup of their stanza are removed (ops/wal_retention.hpp).
ForgetResult forget_by_policy(repo::Repository& repository, const deploy::Config& config, bool dry_run);

// Frees what no snapshot uses (index loaded, exclusive lock held).
repo::PruneResult prune_repository(repo::Repository& repository, bool dry_run);

}  // namespace obkeep::ops
