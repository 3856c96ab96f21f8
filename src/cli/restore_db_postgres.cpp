// `restore-db --to-datadir` for PostgreSQL: the newest base backup before the target,
// extracted with a restore_command that replays the WAL archive up to it; or, without a
// target, a logical backup newer than the base backup's reach, loaded into a new cluster.
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>

#include "cli/restore_db.hpp"
#include "db/data_directory.hpp"
#include "db/engine.hpp"
#include "db/postgres/wal_file.hpp"
#include "db/repository_dump_store.hpp"
#include "ops/postgres_new_cluster.hpp"
#include "ops/wal_reach.hpp"
#include "util/error.hpp"
#include "util/host.hpp"

namespace obkeep::cli {

namespace {

std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Before anything is written: a target past the WAL archive's end would leave PostgreSQL
// failing at that end, after the whole base backup was extracted.
void refuse_past_the_archive(repo::Repository& repository, const repo::Snapshot& base, const std::string& stanza,
                             int64_t until) {
  std::optional<ops::WalBase> wal = ops::wal_base_of(base);
  if (!wal) return;  // taken by an older obkeep: where its replay starts is not recorded
  wal->stanza = stanza;
  std::string start = db::wal_segment_name(wal->timeline, wal->start_segment, wal->segment_bytes);
  std::optional<ops::WalReach> reach = ops::wal_reach(repository, *wal);
  if (!reach)
    throw Error("the WAL archive (stanza " + stanza + ") lacks " + start + ", where a recovery from base backup " +
                base.id.short_hex() + " starts: it reaches only the base backup's end, " + format_rfc3339(base.time_ns));
  if (!reach->later_timeline && reach->archived_ns && until > reach->archived_ns)
    throw Error("--until " + format_rfc3339(until) + " is past the end of the WAL archive (stanza " + stanza +
                "): from base backup " + base.id.short_hex() + " the reachable points are " + format_rfc3339(base.time_ns) +
                " to " + format_rfc3339(reach->archived_ns) + " (" + reach->last_file + ", the newest archived segment)");
}

// How far a base backup recovers: through the WAL archive of `stanza` when it holds the
// base's start, else the backup's own time.
int64_t base_recovery_point(repo::Repository& repository, const repo::Snapshot& base, const std::string& stanza) {
  std::optional<ops::WalBase> wal = ops::wal_base_of(base);
  if (!wal) return base.time_ns;
  wal->stanza = stanza;
  std::optional<ops::WalReach> reach = ops::wal_reach(repository, *wal);
  return reach ? std::max(base.time_ns, reach->archived_ns) : base.time_ns;
}

// A PostgreSQL logical backup as a new cluster's files (ops/postgres_new_cluster.hpp).
int restore_postgres_new_cluster(const GlobalOptions& global, const deploy::Database& database, repo::Repository& repository,
                                 const repo::Snapshot& backup, const RestoreDbCommandOptions& options, const std::string& why) {
  std::string data_directory = std::filesystem::absolute(options.datadir).string();
  ops::NewClusterRestore restored = ops::restore_as_new_cluster(repository, database, backup, data_directory, options.jobs);
  if (!global.quiet)
    std::cout << "path: logical: snapshot " << backup.id.short_hex() << " of " << format_rfc3339(backup.time_ns).substr(0, 19)
              << ", " << why << "\n"
              << "restored " << database.display_name() << " from snapshot " << backup.id.short_hex()
              << " into a new cluster's data directory " << data_directory << " (PostgreSQL " << restored.server_version << ", "
              << restored.tables << " tables, " << restored.rows << " rows, owned by role " << restored.owner
              << "; passwords and other roles are not in a logical backup): start it with pg_ctl -D " << data_directory << "\n";
  return 0;
}

}  // namespace

int restore_postgres_datadir(const GlobalOptions& global, const deploy::Database& database, repo::Repository& repository,
                             const RestoreDbCommandOptions& options) {
  if (!options.until_gtid.empty())
    throw Error("--until-gtid is for MariaDB/MySQL; for PostgreSQL use --until TIME", ExitCode::usage);
  int64_t until = options.until.empty() ? INT64_MAX : parse_until(options.until);
  std::vector<std::string> tags = {"database=" + database.id, "engine=postgresql-base"};
  const std::vector<std::string> logical_tags = {"set=databases", "database=" + database.id, "engine=postgresql"};
  std::optional<repo::Snapshot> base, logical;
  if (options.snapshot == "latest") {
    std::optional<int64_t> oldest;
    for (repo::Snapshot& snapshot : repo::list_snapshots(repository)) {  // oldest first
      if (has_tags(snapshot, logical_tags)) logical = snapshot;
      if (!snapshot.has_tag(tags[0]) || !snapshot.has_tag(tags[1])) continue;
      if (!oldest) oldest = snapshot.time_ns;
      if (snapshot.time_ns <= until) base = std::move(snapshot);
    }
    // Without --until, the newest recovery point: a logical backup newer than where the
    // newest base backup's WAL reaches is loaded into a new cluster instead.
    if (options.until.empty() && logical) {
      std::optional<int64_t> reach = base ? std::optional(base_recovery_point(repository, *base, options.stanza)) : std::nullopt;
      if (!reach || logical->time_ns > *reach)
        return restore_postgres_new_cluster(global, database, repository, *logical, options,
                                            reach ? "newer than base backup " + base->id.short_hex() + "'s newest point, " +
                                                        format_rfc3339(*reach).substr(0, 19)
                                                  : "no base backup");
    }
    if (!base)
      throw Error("no base backup of " + database.display_name() +
                  (options.until.empty() ? "" : " taken before " + options.until) +
                  (oldest ? ": the oldest point reachable is " + format_rfc3339(*oldest) + ", the oldest base backup's time"
                          : " (obkeep base-backup takes one)"));
  } else {
    base = repo::find_snapshot(repository, options.snapshot, {"database=" + database.id});
    if (has_tags(*base, logical_tags) && options.until.empty())
      return restore_postgres_new_cluster(global, database, repository, *base, options, "as asked");
    if (!base->has_tag(tags[1])) throw Error("snapshot " + base->id.short_hex() + " is not a base backup");
  }
  if (global.password_file.empty())
    throw Error("point-in-time recovery needs [repository] password_file in the config (or --password-file): the "
                "server's restore_command opens the repository with it");
  std::string repository_url = global.repository;
  if (repository_url.find("://") == std::string::npos) repository_url = std::filesystem::absolute(repository_url).string();
  std::string command = shell_quote(std::filesystem::read_symlink("/proc/self/exe").string()) + " -r " +
                        shell_quote(repository_url) + " --password-file " +
                        shell_quote(std::filesystem::absolute(global.password_file).string()) + " -q wal-fetch --stanza " +
                        shell_quote(options.stanza);
  // The segments ahead are fetched while the server replays one: a remote repository's
  // round trips stop adding up. The spool lives in the data directory, the server's own.
  std::string data_directory = std::filesystem::absolute(options.datadir).string();
  if (options.wal_prefetch > 0)
    command += " --prefetch " + std::to_string(options.wal_prefetch) + " --spool " +
               shell_quote(data_directory + "/obkeep-wal-prefetch");
  command += " %f %p";
  if (!options.until.empty()) refuse_past_the_archive(repository, *base, options.stanza, until);
  db::NewDataDirectory target(data_directory);  // emptied again if the extraction fails
  db::RestoreOptions restore;
  restore.data_directory = data_directory;
  restore.restore_command = command;
  if (!options.until.empty()) {
    // PostgreSQL's own form, in UTC: "2026-11-25 14:03:00.123456+00".
    time_t seconds = static_cast<time_t>(until / 1000000000);
    struct tm utc {};
    gmtime_r(&seconds, &utc);
    char text[64];
    size_t n = strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &utc);
    snprintf(text + n, sizeof text - n, ".%06lld+00", static_cast<long long>(until % 1000000000 / 1000));
    restore.recovery_target_time = text;
  }
  db::RepositoryDumpSource dump(repository, base->tree);
  db::make_engine("postgresql-base")->restore(dump, db::ConnectionInfo{}, restore);
  target.keep();
  if (!global.quiet)
    std::cout << "path: physical: base backup " << base->id.short_hex() << " of " << format_rfc3339(base->time_ns).substr(0, 19)
              << (options.snapshot == "latest" ? ", the newest recovery point" : ", as asked") << "\n"
              << "restored base backup " << base->id.short_hex() << " of " << database.display_name() << " into "
              << restore.data_directory << "; when started, PostgreSQL replays archived WAL (stanza " << options.stanza
              << ") " << (options.until.empty() ? "to its end" : "up to " + options.until + " and promotes") << "\n";
  return 0;
}

}  // namespace obkeep::cli
