// The start of a restore: a shared lock, the index, the snapshot, and (from a far site) its
// trees already being read. From a far site each of these is round trips; here the index is
// loaded, the snapshot found and its trees read while the lock is saved and the other locks
// listed (RepositoryLock's `early`). What was read before the lock held is kept only when
// the store's index files are still those loaded: a prune that ended in between replaced
// them, and then the index is loaded again and the snapshot found again, as a restore that
// waited for its lock would.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "repo/lock.hpp"
#include "repo/snapshot.hpp"
#include "repo/tree_read_ahead.hpp"

namespace obkeep::archiver {

struct RestoreStart {
  std::unique_ptr<repo::RepositoryLock> lock;
  repo::Snapshot snapshot;
  // For RestoreOptions::trees; null from a local store, or when `read_trees` was false.
  std::shared_ptr<repo::TreeReadAhead> trees;
  bool index_reloaded = false;  // a prune changed the index while the lock was taken
};

// `reference`: a snapshot id, unique prefix or "latest", with `tags` as find_snapshot takes
// them. `read_trees`: the snapshot's whole tree will be restored (not an in-place restore,
// which reads its trees itself).
RestoreStart start_restore(repo::Repository& repository, const std::string& reference,
                           const std::vector<std::string>& tags, bool read_trees);

}  // namespace obkeep::archiver
