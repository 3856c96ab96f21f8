// A restore's lock, index, snapshot and trees, read side by side.
#include "archiver/restore_start.hpp"

#include <optional>

#include "archiver/restore.hpp"

namespace obkeep::archiver {

RestoreStart start_restore(repo::Repository& repository, const std::string& reference,
                           const std::vector<std::string>& tags, bool read_trees) {
  RestoreStart start;
  std::optional<repo::Snapshot> found;
  bool index_current = false;
  start.lock = std::make_unique<repo::RepositoryLock>(
      repository, false, [&] { index_current = repository.index_is_current(); },
      [&] {
        repository.load_index_alongside([&] { found = repo::find_snapshot(repository, reference, tags); });
        if (read_trees) start.trees = read_trees_ahead(repository, found->tree);
      });
  if (!index_current) {
    start.trees.reset();
    repository.reload_index();
    found = repo::find_snapshot(repository, reference, tags);
    if (read_trees) start.trees = read_trees_ahead(repository, found->tree);
    start.index_reloaded = true;
  }
  start.snapshot = std::move(*found);
  return start;
}

}  // namespace obkeep::archiver
