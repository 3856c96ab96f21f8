// Keeping a PostgreSQL server's WAL archive fresh: with WAL archived into obkeep
// (archive_command = 'obkeep … wal-push %p'), the point-in-time recovery point is the end
// of the newest archived segment. A quiet server fills a 16 MB segment slowly, so that
// point can lag far behind the RPO; and an archive_command that fails leaves segments
// piling up on the server while nobody looks. The daemon's `wal` job asks the server.
#pragma once

#include <cstdint>
#include <string>

#include "deploy/deployment.hpp"

namespace obkeep::ops {

struct WalFreshness {
  bool archiving = false;          // archive_mode is on
  std::string last_archived_wal;   // as pg_stat_archiver says ("" when none yet)
  int64_t last_archived_age_s = -1;  // -1 when none
  bool switched = false;           // a segment switch was asked for (pg_switch_wal)
};

// Connects to `database`'s server. With archive_mode on: Error when archiving is failing
// (the last failure is newer than the last success), naming the segment and the time; when
// the newest archived segment is older than `max_age_s`, switches to a new segment so the
// written WAL is archived (a no-op for the server when nothing was written since the last
// switch). Error naming the grant when the user may not switch. With archive_mode off,
// nothing to do. Throws Error (a server that cannot be reached, among others).
WalFreshness keep_wal_fresh(const deploy::Database& database, int64_t max_age_s);

}  // namespace obkeep::ops
