// How far the WAL archive carries a recovery from a base backup, found in a few existence
// checks however long the archive: a point-in-time recovery past its end is refused before
// anything is written, instead of PostgreSQL failing at the end of the archive.
#pragma once

#include <cstdint>
#include <map>
#include <vector>
#include <optional>
#include <string>

#include "ops/wal_retention.hpp"
#include "repo/repository.hpp"

namespace obkeep::ops {

struct WalReach {
  std::string last_file;    // the newest segment archived on the base's timeline
  int64_t archived_ns = 0;  // when it was archived: commits up to then can be replayed
  bool later_timeline = false;  // the archive goes on on a later timeline: it reaches further
};

// Galloping then bisecting over the segment names from the base's start. It assumes the
// archive has no hole (check reports holes); nullopt when even the start is not archived.
std::optional<WalReach> wal_reach(repo::Repository& repository, const WalBase& base);

// Per database id: the newest point its newest PostgreSQL base backup (among `snapshots`,
// the repository's) recovers to through the WAL archive, when that is later than the
// backup itself. A database whose archive cannot be read is left out.
std::map<std::string, int64_t> wal_recovery_points(repo::Repository& repository, const std::vector<repo::Snapshot>& snapshots);

}  // namespace obkeep::ops
