// Forgetting snapshots by rules or policy, and pruning.
#include "ops/retention.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "ops/binlog_archive.hpp"
#include "ops/binlog_entries.hpp"
#include "ops/wal_retention.hpp"
#include "repo/archive_catalog.hpp"
#include "repo/snapshot.hpp"
#include "util/host.hpp"
#include "storage/s3/object_lock.hpp"
#include "util/error.hpp"

namespace obkeep::ops {

void require_deletions(repo::Repository& repository, const std::string& what) {
  if (repository.backend().append_only())
    throw storage::AppendOnlyRefusal(repository.backend().location() + ": the site is append-only: refused to " + what +
                                     " (run it on the server, or through a key whose forced command has no --append-only)");
}

ForgetResult forget_snapshots(repo::Repository& repository, const ForgetOptions& options) {
  ForgetResult result;
  if (!options.ids.empty()) {
    for (const auto& id : options.ids) result.decisions.push_back({repo::find_snapshot(repository, id), false, {"given"}});
  } else {
    std::vector<repo::Snapshot> candidates;
    for (const auto& snapshot : repo::list_snapshots(repository)) {
      bool match = true;
      for (const auto& tag : options.tags) match = match && snapshot.has_tag(tag);
      if (match) candidates.push_back(snapshot);
    }
    result.decisions = repo::apply_keep_rules(candidates, options.rules);
  }
  for (auto& decision : result.decisions) {
    if (!decision.keep && std::find(options.protect.begin(), options.protect.end(), decision.snapshot.id) != options.protect.end())
      decision = {decision.snapshot, true, {"pitr_window"}};
    // A snapshot the store will not delete yet stays, and prune keeps its data.
    if (!decision.keep) {
      storage::Handle handle{storage::FileType::snapshot, decision.snapshot.id.hex()};
      if (auto until = repository.backend().retained_until(handle)) {
        decision.keep = true;
        decision.reasons = {"under S3 Object Lock retention until " + storage::retention_end(*until)};
        ++result.retained;
      }
    }
    if (!decision.keep) {
      ++result.removed;
      if (!options.dry_run) repository.backend().remove({storage::FileType::snapshot, decision.snapshot.id.hex()});
    }
  }
  return result;
}

namespace {

// Removes the archive entries no kept backup needs: WAL files before the oldest kept base
// backup (the window's base is kept), and, with a point-in-time window, binlog pieces before
// the file of the oldest kept backup's position; an epoch of a binlog archive left without
// pieces is marked forgotten, so that its gap is no longer reported.
void forget_archive(repo::Repository& repository, const std::vector<repo::Snapshot>& kept, std::optional<int64_t> window_start,
                    bool dry_run, ForgetResult& result) {
  std::vector<Id> names = repo::list_archive_entries(repository);
  if (names.empty()) return;
  repo::ArchiveRead read = repo::read_archive(repository, names);
  const std::vector<repo::ArchiveEntry>& entries = read.entries;
  std::vector<repo::ArchiveEntry> forget = wal_entries_to_forget(entries, kept);
  if (window_start) {
    std::map<std::string, BinlogArchive> archives = binlog_archives(entries);
    for (BinlogPiece& piece : binlog_pieces_to_forget(kept, *window_start, &archives)) forget.push_back(std::move(*piece.stored));
  }
  std::set<Id> removed;
  for (const repo::ArchiveEntry& entry : forget) {
    if (repository.backend().retained_until({storage::FileType::archive, entry.name.hex()})) {
      ++result.retained;
      continue;
    }
    removed.insert(entry.name);
    result.archive_removed.push_back(entry.key);
  }
  if (dry_run) return;
  // The catalog first: it must not hold a removed entry (nor lag far behind the archive).
  repo::update_archive_catalog(repository, read, removed);
  for (const Id& name : removed) repository.backend().remove({storage::FileType::archive, name.hex()});
  if (window_start) mark_emptied_epochs_forgotten(repository, entries, removed);
}
}  // namespace

repo::KeepRules policy_keep_rules(const deploy::Config& config, const std::string& set) {
  repo::KeepRules rules;
  auto found = config.policies.find(set);
  if (found == config.policies.end()) return rules;
  const deploy::Policy& policy = found->second;
  rules.last = policy.keep_last.value_or(0);
  rules.daily = policy.keep_daily.value_or(0);
  rules.weekly = policy.keep_weekly.value_or(0);
  rules.monthly = policy.keep_monthly.value_or(0);
  return rules;
}

ForgetResult forget_by_policy(repo::Repository& repository, const deploy::Config& config, bool dry_run) {
  ForgetResult total;
  bool any = false;
  auto databases = config.policies.find("databases");
  std::optional<int64_t> window_start;
  if (databases != config.policies.end() && databases->second.pitr_window_s)
    window_start = now_unix_nanos() - *databases->second.pitr_window_s * 1000000000;
  std::vector<repo::Snapshot> before = repo::list_snapshots(repository);
  auto add = [&](ForgetResult result) {
    for (auto& decision : result.decisions) total.decisions.push_back(std::move(decision));
    total.removed += result.removed;
    total.retained += result.retained;
  };
  for (const char* set : deploy::set_names) {
    ForgetOptions options;
    options.rules = policy_keep_rules(config, set);
    if (options.rules.empty()) continue;
    any = true;
    options.tags = {std::string("set=") + set};
    options.dry_run = dry_run;
    if (window_start && std::string(set) == "databases") options.protect = backups_for_window(before, *window_start);
    add(forget_snapshots(repository, options));
  }
  // The archives are judged against what the keep rules left.
  std::vector<repo::Snapshot> kept;
  for (const repo::Snapshot& snapshot : before) {
    bool removed = std::any_of(total.decisions.begin(), total.decisions.end(), [&](const repo::ForgetDecision& d) {
      return !d.keep && d.snapshot.id == snapshot.id;
    });
    if (!removed) kept.push_back(snapshot);
  }
  if (window_start) {  // pieces an obkeep before archive entries saved as snapshots
    ForgetOptions pieces;
    pieces.dry_run = dry_run;
    for (const BinlogPiece& piece : binlog_pieces_to_forget(kept, *window_start)) pieces.ids.push_back(piece.snapshot.hex());
    if (!pieces.ids.empty()) {
      any = true;
      ForgetResult result = forget_snapshots(repository, pieces);
      for (auto& decision : result.decisions) decision.reasons = {"binlog piece older than the kept backups and the pitr_window"};
      add(std::move(result));
    }
  }
  if (any) forget_archive(repository, kept, window_start, dry_run, total);
  if (!any)
    throw Error(config.path + ": no [policy.<set>] has keep_last, keep_daily, keep_weekly or keep_monthly, so "
                              "forget has no rules (give --keep-* rules)",
                ExitCode::usage);
  return total;
}

repo::PruneResult prune_repository(repo::Repository& repository, bool dry_run) {
  repo::PruneOptions options;
  options.dry_run = dry_run;
  return repo::prune(repository, options);
}

}  // namespace obkeep::ops
