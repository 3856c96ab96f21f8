#include "ops/wal_reach.hpp"

#include <cstdio>

#include "db/postgres/wal_archive.hpp"
#include "db/postgres/wal_file.hpp"
#include "util/error.hpp"
#include "util/gallop.hpp"

namespace obkeep::ops {

std::optional<WalReach> wal_reach(repo::Repository& repository, const WalBase& base) {
  auto archived = [&](uint64_t segment) {
    return repo::archive_entry_exists(
        repository, db::wal_key(base.stanza, db::wal_segment_name(base.timeline, segment, base.segment_bytes)));
  };
  if (!archived(base.start_segment)) return std::nullopt;
  uint64_t present = last_present(base.start_segment, archived);
  WalReach reach;
  reach.last_file = db::wal_segment_name(base.timeline, present, base.segment_bytes);
  if (auto entry = repo::load_archive_entry(repository, db::wal_key(base.stanza, reach.last_file)))
    reach.archived_ns = entry->time_ns;
  char history[17];
  snprintf(history, sizeof history, "%08X.history", base.timeline + 1);
  reach.later_timeline = repo::archive_entry_exists(repository, db::wal_key(base.stanza, history));
  return reach;
}

std::map<std::string, int64_t> wal_recovery_points(repo::Repository& repository, const std::vector<repo::Snapshot>& snapshots) {
  std::map<std::string, WalBase> newest;  // per database id
  for (const repo::Snapshot& snapshot : snapshots)
    if (std::optional<WalBase> base = wal_base_of(snapshot)) {
      std::string database = snapshot.tag_value("database");
      auto [slot, fresh] = newest.try_emplace(database, *base);
      if (!fresh && slot->second.time_ns < base->time_ns) slot->second = *base;
    }
  std::map<std::string, int64_t> points;
  for (const auto& [database, base] : newest) {
    try {
      std::optional<WalReach> reach = wal_reach(repository, base);
      if (reach && reach->archived_ns > base.time_ns) points[database] = reach->archived_ns;
    } catch (const Error& e) {
      if (e.code() == ExitCode::interrupted) throw;
    }
  }
  return points;
}

}  // namespace obkeep::ops
