// Backing up file trees: walk, compare with the parent snapshot, save changed files.
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "repo/repository.hpp"
#include "repo/snapshot.hpp"

namespace obkeep::archiver {

struct BackupOptions {
  std::vector<std::string> paths;     // as given; made absolute
  std::vector<std::string> excludes;  // glob patterns: with "/" matched against the full path, else the name
  std::optional<repo::Snapshot> parent;
  bool force = false;  // reread files even when their metadata is unchanged
  unsigned workers = 0;  // reader threads; 0: two per core
};

struct BackupProgress {
  std::atomic<uint64_t> files_done{0};
  std::atomic<uint64_t> bytes_done{0};
  std::atomic<uint64_t> files_total{0};  // from the scanner, may lag
  std::atomic<uint64_t> bytes_total{0};
  std::atomic<bool> scan_finished{false};
};

struct BackupResult {
  Id tree;
  std::vector<std::string> paths;  // absolute
  uint64_t files_new = 0, files_changed = 0, files_unmodified = 0;
  uint64_t dirs_new = 0, dirs_changed = 0, dirs_unmodified = 0;
  uint64_t bytes_processed = 0;
  std::vector<std::string> errors;                 // unreadable entries (exit code 3)
  std::vector<std::string> changed_while_reading;  // warnings
};

// Saves the trees and blobs; the caller flushes the repository and writes the snapshot.
BackupResult backup_paths(repo::Repository& repository, const BackupOptions& options, BackupProgress* progress);

// Normalises a path given on the command line to an absolute path without "." and "..".
std::string absolute_path(const std::string& path);

// The newest snapshot of the same host with exactly these paths (the incremental parent).
std::optional<repo::Snapshot> find_parent(const std::vector<repo::Snapshot>& snapshots,
                                          const std::vector<std::string>& absolute_paths,
                                          const std::vector<std::string>& tags);

}  // namespace obkeep::archiver
