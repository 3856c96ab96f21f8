// Replacing a directory (a home's repository/, or a whole home) from a snapshot, safely:
// restore into a staging directory beside it, verify every file, then swap atomically and
// keep the old tree as a dated rollback directory.
#pragma once

#include <string>

#include "archiver/restore.hpp"
#include "repo/repository.hpp"
#include "repo/snapshot.hpp"

namespace obkeep::archiver {

struct ReplaceResult {
  RestoreResult restore;
  std::string rollback;  // where the old tree now is ("" when there was none)
  size_t kept_excluded = 0;  // entries the snapshot excluded, carried over from the old tree
};

// `path` is the absolute path of a directory saved in `snapshot`. Throws Error, leaving
// `path` untouched, when anything fails before the swap.
ReplaceResult replace_in_place(repo::Repository& repository, const repo::Snapshot& snapshot, const std::string& path);

// The node of `path` inside a snapshot (Error when the snapshot does not hold it).
repo::Node find_node(repo::Repository& repository, const repo::Snapshot& snapshot, const std::string& path);

}  // namespace obkeep::archiver
