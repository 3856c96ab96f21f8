// Checking a repository under a shared lock.
#include "ops/verify.hpp"

#include "ops/binlog_archive.hpp"
#include "ops/binlog_entries.hpp"
#include "ops/wal_retention.hpp"
#include "repo/lock.hpp"
#include "repo/snapshot.hpp"
#include "util/error.hpp"

namespace obkeep::ops {

repo::CheckResult verify(repo::Repository& repository, const VerifyOptions& options) {
  repo::RepositoryLock lock(repository, false);
  repo::CheckOptions check;
  check.read_fraction = options.read_fraction;
  check.read_part = options.read_part;
  check.read_parts = options.read_parts;
  repo::CheckResult result = repo::check_repository(repository, check);
  // A hole in a binlog or WAL archive is no damage to the repository, but recovery cannot
  // cross it: a warning. A snapshot that cannot be read is damage, which the check reports.
  try {
    const std::vector<repo::Snapshot>& snapshots = result.snapshot_list;
    for (std::string& gap : binlog_gap_warnings(snapshots)) result.warnings.push_back(std::move(gap));
    for (const auto& [database, archive] : binlog_archives(result.archive))
      for (const BinlogGap& gap : archive.gaps())
        result.warnings.push_back(binlog_gap_warning(archive.pieces().front().database_name, gap));
    for (std::string& gap : wal_gap_warnings(result.archive, snapshots)) result.warnings.push_back(std::move(gap));
  } catch (const Error& e) {
    if (e.code() == ExitCode::interrupted) throw;
  }
  return result;
}

}  // namespace obkeep::ops
