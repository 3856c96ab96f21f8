#include "ops/wal_freshness.hpp"

#include "db/postgres/pg_connection.hpp"
#include "ops/database_backup.hpp"
#include "util/error.hpp"

namespace obkeep::ops {

WalFreshness keep_wal_fresh(const deploy::Database& database, int64_t max_age_s) {
  if (database.engine != deploy::Engine::postgresql)
    throw Error("WAL archiving is for PostgreSQL; " + database.display_name() + " is " + deploy::to_string(database.engine));
  std::string engine;
  db::ConnectionInfo source = connection_for(database, engine);
  db::PgConnection connection(source, source.database);
  WalFreshness freshness;
  freshness.archiving = connection.query("SHOW archive_mode")[0][0] != "off";
  if (!freshness.archiving) return freshness;
  // Ages from the server's clock: ours may differ.
  auto row = connection.query(
      "SELECT coalesce(last_archived_wal, ''), "
      "coalesce(floor(extract(epoch FROM now() - last_archived_time))::bigint, -1), "
      "coalesce(last_failed_wal, ''), coalesce(last_failed_time::text, ''), failed_count, "
      "coalesce(last_failed_time > coalesce(last_archived_time, '-infinity'), false) FROM pg_stat_archiver")[0];
  freshness.last_archived_wal = row[0];
  freshness.last_archived_age_s = std::stoll(row[1]);
  if (row[5] == "t")
    throw Error("archive_command is failing on " + connection.describe() + ": WAL " + row[2] + " failed at " + row[3] + " (" +
                row[4] + " failures since the statistics were reset)" +
                (freshness.last_archived_wal.empty() ? "; nothing archived yet"
                                                     : "; the last archived is " + freshness.last_archived_wal + ", " +
                                                           std::to_string(freshness.last_archived_age_s) + " s ago"));
  if (freshness.last_archived_age_s < 0 || freshness.last_archived_age_s > max_age_s) {
    try {
      connection.query("SELECT pg_switch_wal()::text");
    } catch (const Error& e) {
      throw Error(std::string(e.what()) + " (the daemon switches WAL segments to keep the archive within the RPO: GRANT EXECUTE ON "
                  "FUNCTION pg_switch_wal() TO " + source.user + ")");
    }
    freshness.switched = true;
  }
  return freshness;
}

}  // namespace obkeep::ops
