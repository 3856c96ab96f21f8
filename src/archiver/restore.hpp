// Restoring a snapshot tree into a target directory, safely and with full metadata.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "repo/node.hpp"
#include "repo/repository.hpp"
#include "repo/tree_read_ahead.hpp"

namespace obkeep::archiver {

struct RestoreOptions {
  std::string target;
  // Absolute paths inside the snapshot to restore (all when empty), e.g. /opt/x/repository.
  std::vector<std::string> includes;
  bool verify = false;  // reread every restored file and check it against its blob ids
  // Metadata to give the target directory itself (in-place restores of a directory).
  std::optional<repo::Node> target_metadata;
  unsigned workers = 0;
  // Bytes of packs read ahead of the writers from a remote store; 0: the default below.
  // Restores run side by side (a drill) share what one would use.
  uint64_t read_ahead_budget = 0;
  // Trees already being read ahead (read_trees_ahead): a restore from a far site starts
  // them while it takes its lock. Null: the restore starts its own.
  std::shared_ptr<repo::TreeReadAhead> trees;
};

// From a remote store, `root` and its subtrees read ahead from now on, for the restore of
// `root` (RestoreOptions::trees); null from a local one, where a tree costs no round trip.
std::shared_ptr<repo::TreeReadAhead> read_trees_ahead(repo::Repository& repository, const Id& root);

// Measured at a far SFTP site (RTT 80 ms, docs/benchmarks.md): at 256 MiB the walk cut
// growing ranges short to stay within it, and ranges fetched later read the skipped bytes
// again (12% more bytes fetched); 512 MiB fetched each byte about once and restored faster.
constexpr uint64_t default_read_ahead_budget = 512 * 1024 * 1024;

struct RestoreProgress {
  std::atomic<uint64_t> files_done{0};
  std::atomic<uint64_t> bytes_done{0};
};

struct RestoreResult {
  uint64_t files = 0, directories = 0, links = 0, others = 0;
  uint64_t bytes = 0;
  uint64_t verified_files = 0;
  // Files found in the target already whole (same size, every blob's id matching): kept,
  // only their metadata set. A restore run again after a cut fetches only the rest.
  uint64_t unchanged_files = 0, unchanged_bytes = 0;
  std::vector<std::string> errors;    // files not restored (damaged data, write failures)
  std::vector<std::string> warnings;  // metadata that could not be applied
};

RestoreResult restore_tree(repo::Repository& repository, const Id& tree, const RestoreOptions& options,
                           RestoreProgress* progress);

}  // namespace obkeep::archiver
