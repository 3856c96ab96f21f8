// Checking a repository: structure always, and pack contents with read_data.
#pragma once

#include <string>
#include <vector>

#include "repo/repository.hpp"

namespace obkeep::repo {

struct CheckOptions {
  double read_fraction = 0;  // 0: structure only; 1: every pack; else a random share of packs
};

struct CheckResult {
  std::vector<std::string> errors;
  std::vector<std::string> warnings;
  uint64_t snapshots = 0, trees = 0, packs = 0, packs_read = 0, blobs_read = 0;
  std::vector<std::string> affected;  // "snapshot <id>: <path>" for files using damaged data
};

CheckResult check_repository(Repository& repository, const CheckOptions& options);

}  // namespace obkeep::repo
