// Checking a repository: structure always, and pack contents with read_data.
#pragma once

#include <string>
#include <vector>

#include "repo/archive_entry.hpp"
#include "repo/repository.hpp"
#include "repo/snapshot.hpp"

namespace obkeep::repo {

struct CheckOptions {
  double read_fraction = 0;  // 0: structure only; 1: every pack; else a random share of packs
  // Instead, part `read_part` (1-based) of `read_parts`: the packs whose id falls in it, so
  // that reading parts 1..n in turn reads every pack (a verification rotation).
  uint32_t read_part = 0, read_parts = 0;
};

struct CheckResult {
  std::vector<std::string> errors;
  std::vector<std::string> warnings;
  uint64_t snapshots = 0, trees = 0, packs = 0, packs_read = 0, blobs_read = 0, archive_entries = 0;
  std::vector<std::string> affected;  // "snapshot <id>: <path>" for files using damaged data
  std::vector<ArchiveEntry> archive;  // the entries that could be read, for checks of the archive's continuity
  std::vector<Snapshot> snapshot_list;  // the snapshots that could be read, oldest first
};

CheckResult check_repository(Repository& repository, const CheckOptions& options);

}  // namespace obkeep::repo
