// Verification (`check`): the repository's structure, and as much of its data as asked.
#pragma once

#include "repo/check.hpp"
#include "repo/repository.hpp"

namespace obkeep::ops {

struct VerifyOptions {
  double read_fraction = 0;  // of the packs to read and verify: 0 none, 1 all
  uint32_t read_part = 0, read_parts = 0;  // instead: part k of n (repo::CheckOptions)
};

// Takes a shared lock for the check; the errors found are in the result, not thrown. Holes
// in the binlog and WAL archives are among its warnings.
repo::CheckResult verify(repo::Repository& repository, const VerifyOptions& options);

}  // namespace obkeep::ops
