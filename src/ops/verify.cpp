// Checking a repository under a shared lock.
#include "ops/verify.hpp"

#include "repo/lock.hpp"

namespace obkeep::ops {

repo::CheckResult verify(repo::Repository& repository, const VerifyOptions& options) {
  repo::RepositoryLock lock(repository, false);
  repo::CheckOptions check;
  check.read_fraction = options.read_fraction;
  check.read_part = options.read_part;
  check.read_parts = options.read_parts;
  return repo::check_repository(repository, check);
}

}  // namespace obkeep::ops
