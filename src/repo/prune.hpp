// Prune: delete what no snapshot uses, repacking packs that are partly in use.
#pragma once

#include <string>
#include <vector>

#include "repo/repository.hpp"

namespace obkeep::repo {

struct PruneOptions {
  bool dry_run = false;
  double repack_threshold = 0.10;  // repack a pack when more than this share of it is unused
};

struct PruneResult {
  uint64_t packs_deleted = 0, packs_repacked = 0, packs_kept = 0;
  uint64_t blobs_used = 0, blobs_unused = 0;
  uint64_t bytes_before = 0, bytes_freed = 0;
  uint64_t index_files_replaced = 0;
  // Kept because the store will not delete them yet (S3 Object Lock), and until when at the
  // latest (Unix ns; 0 when nothing was).
  uint64_t packs_retained = 0, index_files_retained = 0;
  int64_t retained_until = 0;
};

// The caller holds an exclusive lock and has loaded the index.
PruneResult prune(Repository& repository, const PruneOptions& options);

}  // namespace obkeep::repo
