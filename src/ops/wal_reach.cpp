#include "ops/wal_reach.hpp"

#include <cstdio>

#include "db/postgres/wal_archive.hpp"
#include "db/postgres/wal_file.hpp"

namespace obkeep::ops {

std::optional<WalReach> wal_reach(repo::Repository& repository, const WalBase& base) {
  auto archived = [&](uint64_t segment) {
    return repo::archive_entry_exists(
        repository, db::wal_key(base.stanza, db::wal_segment_name(base.timeline, segment, base.segment_bytes)));
  };
  if (!archived(base.start_segment)) return std::nullopt;
  uint64_t present = base.start_segment, step = 1, absent = 0;
  for (;;) {  // present is archived; find an absent one beyond it
    if (!archived(present + step)) {
      absent = present + step;
      break;
    }
    present += step;
    step *= 2;
  }
  while (absent - present > 1) {
    uint64_t middle = present + (absent - present) / 2;
    (archived(middle) ? present : absent) = middle;
  }
  WalReach reach;
  reach.last_file = db::wal_segment_name(base.timeline, present, base.segment_bytes);
  if (auto entry = repo::load_archive_entry(repository, db::wal_key(base.stanza, reach.last_file)))
    reach.archived_ns = entry->time_ns;
  char history[17];
  snprintf(history, sizeof history, "%08X.history", base.timeline + 1);
  reach.later_timeline = repo::archive_entry_exists(repository, db::wal_key(base.stanza, history));
  return reach;
}

}  // namespace obkeep::ops
