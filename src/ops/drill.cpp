// The recovery drill: timed steps that restore and verify into a sandbox.
#include "ops/drill.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <unordered_set>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <mutex>
#include <utility>

#include "archiver/restore.hpp"
#include "db/mariadb/mariadb_scratch_server.hpp"
#include "ops/cluster_recovery.hpp"
#include "ops/mariadb_recovery.hpp"
#include "ops/database_restore.hpp"
#include "util/format.hpp"
#include "repo/journal.hpp"
#include "repo/lock.hpp"
#include "repo/snapshot_tags.hpp"
#include "repo/blob_prefetch.hpp"
#include "repo/tree.hpp"
#include "repo/tree_walk.hpp"
#include "util/error.hpp"
#include "util/host.hpp"
#include "util/parallel_tasks.hpp"

namespace obkeep::ops {

namespace fs = std::filesystem;

namespace {

// The newest snapshot holding every tag (and none of `without`), if any.
const repo::Snapshot* newest_with(const std::vector<repo::Snapshot>& snapshots, const std::vector<std::string>& tags,
                                  const std::string& without = "") {
  for (auto it = snapshots.rbegin(); it != snapshots.rend(); ++it) {
    if (repo::has_all_tags(*it, tags) && (without.empty() || !it->has_tag(without))) return &*it;
  }
  return nullptr;
}

// A name that is safe as one path component or database name.
std::string plain_name(const std::string& text) {
  std::string out;
  for (char c : text) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return out;
}

// Homes and databases recovered at once, at most.
constexpr unsigned recoveries_at_once = 4;

class Drill {
 public:
  Drill(const deploy::Config& config, const deploy::Discovery& discovery, const RepositoryAccess& access,
        const DrillOptions& options, std::string sandbox)
      : config_(config), discovery_(discovery), access_(access), options_(options) {
    result_.sandbox = std::move(sandbox);
  }
  DrillResult run();

 private:
  // Runs one timed step; a failed step is recorded, and the drill goes on with the next.
  bool step(const std::string& name, const std::function<std::string()>& action);
  std::string restore_files(const repo::Snapshot& snapshot, const std::string& target);
  void restore_home(const std::string& home);
  void restore_database(const deploy::Database& database);
  // The physical path; false when it does not apply and the logical one should run.
  bool recover_cluster_if_newest(const deploy::Database& database, const repo::Snapshot* logical);
  bool recover_mariadb_if_newest(const deploy::Database& database, const repo::Snapshot* logical);
  std::string server_directory(const std::string& kind, const deploy::Database& database);
  std::string read_whole_tree(const Id& tree);
  void recovery_point(int64_t time_ns) {
    std::lock_guard lock(mutex_);
    oldest_point_ns_ = std::min(oldest_point_ns_, time_ns);
  }
  // The recoveries that do not depend on each other, side by side, as an operator with
  // several hands would run them: each home (an H2 database inside it after it), and each
  // server database.
  std::vector<std::function<void()>> independent_recoveries();

  const deploy::Config& config_;
  const deploy::Discovery& discovery_;
  const RepositoryAccess& access_;
  const DrillOptions& options_;
  DrillResult result_;
  std::unique_ptr<repo::Repository> repository_;
  std::unique_ptr<repo::RepositoryLock> lock_;
  std::vector<repo::Snapshot> snapshots_;
  int64_t oldest_point_ns_ = INT64_MAX;
  std::chrono::steady_clock::time_point start_;
  std::mutex mutex_;  // guards result_ and oldest_point_ns_ while recoveries run side by side
};

bool Drill::step(const std::string& name, const std::function<std::string()>& action) {
  DrillStep step{name, 0, 0, false, ""};
  auto start = std::chrono::steady_clock::now();
  step.start_s = std::chrono::duration<double>(start - start_).count();
  try {
    step.detail = action();
    step.ok = true;
  } catch (const Error& e) {
    if (e.code() == ExitCode::interrupted) throw;
    step.detail = e.what();
  }
  step.duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::lock_guard lock(mutex_);
  if (!step.ok) result_.failures.push_back(name + ": " + step.detail);
  if (options_.on_step) options_.on_step(step);
  bool ok = step.ok;
  result_.steps.push_back(std::move(step));
  return ok;
}

// Restores with verification: every file is read back and checked against its blob ids.
std::string Drill::restore_files(const repo::Snapshot& snapshot, const std::string& target) {
  archiver::RestoreOptions restore;
  restore.target = target;
  restore.verify = true;
  // The homes are restored side by side: together they read ahead what one restore would.
  restore.read_ahead_budget =
      archiver::default_read_ahead_budget / std::max<size_t>(1, std::min<size_t>(recoveries_at_once, discovery_.homes.size()));
  archiver::RestoreResult restored = archiver::restore_tree(*repository_, snapshot.tree, restore, nullptr);
  if (!restored.errors.empty())
    throw Error(std::to_string(restored.errors.size()) + " files not restored or not verified, first: " + restored.errors.front());
  return "snapshot " + snapshot.id.short_hex() + " of " + format_rfc3339(snapshot.time_ns).substr(0, 19) + ": " +
         std::to_string(restored.verified_files) + " files verified, " + format_bytes(restored.bytes);
}

// The server directory from the instance set, then repository/ replaced by the artifacts
// set when that is newer — the guidance's recovery order.
void Drill::restore_home(const std::string& home) {
  const repo::Snapshot* instance = newest_with(snapshots_, {"set=instance", "home=" + home});
  const repo::Snapshot* artifacts = newest_with(snapshots_, {"set=artifacts", "home=" + home});
  step("restore server directory " + home, [&] {
    if (!instance) throw Error("no instance snapshot of " + home + " (backup --config --set instance takes one)");
    recovery_point(instance->time_ns);
    return restore_files(*instance, result_.sandbox);
  });
  if (!artifacts || (instance && artifacts->time_ns <= instance->time_ns)) return;
  step("replace repository/ of " + home, [&] {
    std::string staging = result_.sandbox + "/.artifacts-" + plain_name(home);
    std::string detail = restore_files(*artifacts, staging);
    fs::path restored = fs::path(staging) / fs::path(home).relative_path() / "repository";
    fs::path target = fs::path(result_.sandbox) / fs::path(home).relative_path() / "repository";
    fs::create_directories(target.parent_path());
    struct stat home_times;  // the swap below must not change the restored home's times
    bool have_times = ::stat(target.parent_path().c_str(), &home_times) == 0;
    fs::remove_all(target);
    fs::rename(restored, target);
    if (have_times) {
      timespec times[2] = {home_times.st_atim, home_times.st_mtim};
      ::utimensat(AT_FDCWD, target.parent_path().c_str(), times, 0);
    }
    fs::remove_all(staging);
    if (instance) recovery_point(std::max(instance->time_ns, artifacts->time_ns));
    return detail;
  });
}

// Reads and verifies every blob a snapshot names (what a restore would read): the blobs in
// batches of neighbouring pack space, each batch one read per run (BlobPrefetch), several
// batches at once, so that a far site costs round trips per batch, not per blob.
std::string Drill::read_whole_tree(const Id& tree_id) {
  constexpr uint64_t batch_bytes = 16 * 1024 * 1024;
  std::vector<std::pair<Id, repo::BlobLocation>> blobs;
  std::unordered_set<Id, IdHash> seen;
  std::optional<std::string> unreadable;
  repo::TreeWalker(*repository_).walk(
      tree_id, seen, [](const Id&) {},
      [&](const std::string&, const repo::Node& node) {
        for (const Id& blob : node.content) blobs.emplace_back(blob, repository_->locate(blob));
      },
      [&](const Id& tree, const std::string& path, const std::string& message) {
        if (!unreadable) unreadable = "tree " + tree.short_hex() + " at " + path + ": " + message;
      });
  if (unreadable) throw IntegrityError(*unreadable);
  std::vector<std::pair<size_t, size_t>> batches;  // [first, end) of `blobs`
  for (size_t first = 0, end = 0; first < blobs.size(); first = end) {
    uint64_t bytes = 0;
    for (end = first; end < blobs.size() && (end == first || bytes < batch_bytes); ++end) bytes += blobs[end].second.stored_length;
    batches.emplace_back(first, end);
  }
  std::atomic<uint64_t> bytes{0};
  run_parallel(batches.size(), repository_->whole_pack_readers(), [&](size_t b) {
    auto [first, end] = batches[b];
    std::vector<repo::BlobLocation> wanted;
    for (size_t i = first; i < end; ++i) wanted.push_back(blobs[i].second);
    repo::BlobPrefetch batch(*repository_, std::move(wanted));
    Bytes plain;
    for (size_t i = first; i < end; ++i) {
      const auto& [id, location] = blobs[i];
      plain.resize(location.raw_length);
      batch.load_into(id, location, plain);
      bytes += plain.size();
    }
  });
  return std::to_string(blobs.size()) + " blobs, " + format_bytes(bytes) + " read and verified";
}

// Where a physical recovery writes a database server's files: <sandbox>/<kind>/<name>.
std::string Drill::server_directory(const std::string& kind, const deploy::Database& database) {
  std::string directory = result_.sandbox + "/" + kind + "/" + plain_name(database.display_name());
  fs::create_directories(fs::path(directory).parent_path());
  if (geteuid() == 0) {
    // The server runs as its own user (postgres, mysql): it must reach its data directory
    // through the sandbox.
    ::chmod(result_.sandbox.c_str(), 0711);
    ::chmod(fs::path(directory).parent_path().c_str(), 0711);
  }
  return directory;
}

// PostgreSQL from its base backup when that is the newest recovery point and this machine
// has the server to start it: a copy and a start, where a logical restore rebuilds every
// index. The step says which path it took.
bool Drill::recover_cluster_if_newest(const deploy::Database& database, const repo::Snapshot* logical) {
  if (database.engine != deploy::Engine::postgresql) return false;
  const repo::Snapshot* base = newest_with(snapshots_, {"database=" + database.id, "engine=postgresql-base"});
  if (!base || (logical && logical->time_ns > base->time_ns)) return false;
  BaseBackupServer server;
  try {
    server = server_for_base_backup(*repository_, *base);
  } catch (const Error& e) {
    if (e.code() == ExitCode::interrupted) throw;
    if (logical) return false;  // the manifest is unreadable: the logical dump still counts
  }
  if (server.binaries.empty() && logical) return false;
  step("recover database " + database.display_name() + " (" + database.id + ") from its base backup", [&] {
    if (server.binaries.empty())
      throw Error("no PostgreSQL server binaries of the base backup's version here to start the cluster, and no logical dump");
    recovery_point(base->time_ns);
    std::string directory = server_directory(".postgresql", database);
    ClusterRecovery recovery = recover_cluster(*repository_, database, *base, server, directory);
    return "physical: base backup " + base->id.short_hex() + " of " + format_rfc3339(base->time_ns).substr(0, 19) + ", " +
           format_bytes(recovery.bytes) + ", PostgreSQL " + recovery.server_version + " started on it: " +
           std::to_string(recovery.tables) + " tables, " + std::to_string(recovery.rows) + " rows";
  });
  return true;
}

// MariaDB from its mariadb-backup copy when that is the newest recovery point and this
// machine has mariadbd: prepared and started, where a logical restore reloads every row.
bool Drill::recover_mariadb_if_newest(const deploy::Database& database, const repo::Snapshot* logical) {
  if (database.engine != deploy::Engine::mysql) return false;
  const repo::Snapshot* physical = newest_with(snapshots_, {"database=" + database.id, "engine=mariadb-physical"});
  if (!physical || (logical && logical->time_ns > physical->time_ns)) return false;
  if (db::MariadbScratchServer::binary().empty() && logical) return false;
  step("recover database " + database.display_name() + " (" + database.id + ") from its physical backup", [&] {
    recovery_point(physical->time_ns);
    std::string directory = server_directory(".mariadb", database);
    ServerRecovery recovery = recover_mariadb(*repository_, database, *physical, directory);
    return "physical: mariadb-backup " + physical->id.short_hex() + " of " + format_rfc3339(physical->time_ns).substr(0, 19) +
           ", " + format_bytes(recovery.bytes) + ", MariaDB " + recovery.server_version + " started on it: " +
           std::to_string(recovery.tables) + " tables, " + std::to_string(recovery.rows) + " rows";
  });
  return true;
}

void Drill::restore_database(const deploy::Database& database) {
  std::string name = "restore database " + database.display_name() + " (" + database.id + ")";
  std::vector<std::string> logical = {"database=" + database.id};
  if (database.engine == deploy::Engine::mysql) logical.push_back("engine=mysql");  // not a mariadb-backup copy
  const repo::Snapshot* snapshot = newest_with(snapshots_, logical, "engine=postgresql-base");
  if (recover_cluster_if_newest(database, snapshot) || recover_mariadb_if_newest(database, snapshot)) return;
  std::string scratch = database.engine == deploy::Engine::postgresql ? options_.scratch_postgresql
                        : database.engine == deploy::Engine::mysql    ? options_.scratch_mysql
                                                                      : "";
  if (snapshot && database.engine != deploy::Engine::h2 && scratch.empty()) {
    // No server to restore into: prove at least that every byte of the dump is there and intact.
    step("read database dump " + database.display_name() + " (" + database.id + ")", [&] {
      recovery_point(snapshot->time_ns);
      return read_whole_tree(snapshot->tree) + "; not restored: give a scratch server with --scratch-" +
             deploy::to_string(database.engine);
    });
    return;
  }
  step(name, [&] {
    if (!snapshot) throw Error("no backup of " + database.display_name() + " (backup --config --set databases takes one)");
    recovery_point(snapshot->time_ns);
    DatabaseTarget target;
    if (database.engine == deploy::Engine::h2) {
      // Where the restored server directory expects it (the id is the file's absolute path).
      fs::path file = fs::path(result_.sandbox) / fs::path(database.database).relative_path();
      fs::create_directories(file.parent_path());
      target.jdbc_url = "jdbc:h2:" + file.string();
    } else {
      target.jdbc_url = scratch + (scratch.back() == '/' ? "" : "/") + "obkeep_drill_" + plain_name(database.display_name());
    }
    db::RestoreOptions restore;
    restore.drop_existing = true;  // a scratch database of an earlier drill
    DatabaseRestoreOutcome outcome = ops::restore_database(*repository_, database, *snapshot, target, restore);
    uint64_t rows = 0;
    for (const auto& table : outcome.report.tables) rows += table.rows;
    return "logical: snapshot " + snapshot->id.short_hex() + " into " + outcome.target + ": " +
           std::to_string(outcome.report.tables.size()) + " tables, " + std::to_string(rows) + " rows";
  });
}

std::vector<std::function<void()>> Drill::independent_recoveries() {
  // An H2 database is a file inside a home: restored after that home, which would
  // otherwise replace it (the repository/ swap).
  auto inside = [](const deploy::Database& database, const std::string& home) {
    return database.engine == deploy::Engine::h2 && database.database.rfind(home + "/", 0) == 0;
  };
  std::vector<const deploy::Database*> databases;
  for (const deploy::Database& database : discovery_.databases)
    if (database.method.rfind("none", 0) != 0) databases.push_back(&database);
  std::vector<std::function<void()>> tasks;
  for (const std::string& home : discovery_.homes) {
    std::vector<const deploy::Database*> after;
    for (const deploy::Database*& database : databases)
      if (database && inside(*database, home)) after.push_back(std::exchange(database, nullptr));
    tasks.push_back([this, home, after] {
      restore_home(home);
      for (const deploy::Database* database : after) restore_database(*database);
    });
  }
  for (const deploy::Database* database : databases)
    if (database) tasks.push_back([this, database] { restore_database(*database); });
  return tasks;
}

DrillResult Drill::run() {
  const deploy::Config& config = config_;
  result_.started_ns = now_unix_nanos();
  for (const auto& [set, policy] : config.policies) {
    if (policy.rto_s) result_.rto_s = std::min(result_.rto_s.value_or(INT64_MAX), *policy.rto_s);
    if (policy.rpo_s) result_.rpo_s = std::min(result_.rpo_s.value_or(INT64_MAX), *policy.rpo_s);
  }
  if (!options_.site.empty()) {
    const deploy::DrSite& site = find_site(config, options_.site);
    result_.site = site.name;
    result_.repository = site.url;
  } else {
    result_.repository = access_.url;
  }
  start_ = std::chrono::steady_clock::now();
  bool opened = step("open " + (result_.site ? "DR site " + *result_.site : std::string("repository")), [&] {
    repository_ = result_.site ? open_site(find_site(config, *result_.site), access_) : open_primary(access_);
    lock_ = std::make_unique<repo::RepositoryLock>(*repository_, false, [&] { repository_->load_index(); });
    snapshots_ = repo::list_snapshots(*repository_);
    return std::to_string(snapshots_.size()) + " snapshots";
  });
  if (opened) {
    std::vector<std::function<void()>> recoveries = independent_recoveries();
    run_parallel(recoveries.size(), recoveries_at_once, [&](size_t i) { recoveries[i](); });
  }
  result_.measured_rto_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::stable_sort(result_.steps.begin(), result_.steps.end(),
                   [](const DrillStep& a, const DrillStep& b) { return a.start_s < b.start_s; });
  if (oldest_point_ns_ != INT64_MAX)
    result_.achieved_rpo_s = std::max<int64_t>(0, (result_.started_ns - oldest_point_ns_) / 1000000000);
  if (result_.rto_s && result_.measured_rto_s > double(*result_.rto_s))
    result_.failures.push_back("the recovery took " + format_duration(result_.measured_rto_s) + ", over the RTO of " +
                               format_duration(double(*result_.rto_s)));
  if (result_.rpo_s && result_.achieved_rpo_s && *result_.achieved_rpo_s > *result_.rpo_s)
    result_.failures.push_back("the oldest recovery point restored was " + format_duration(double(*result_.achieved_rpo_s)) +
                               " old, over the RPO of " + format_duration(double(*result_.rpo_s)));
  return result_;
}

}  // namespace

DrillResult run_drill(const deploy::Config& config, const deploy::Discovery& discovery, const RepositoryAccess& access,
                      const DrillOptions& options) {
  if (!options.site.empty()) find_site(config, options.site);  // an unknown site: before a sandbox is made
  std::string sandbox = options.sandbox;
  if (sandbox.empty()) {
    std::string pattern = "/var/tmp/obkeep-drill-XXXXXX";
    if (!mkdtemp(pattern.data())) throw Error("cannot make a sandbox in /var/tmp");
    sandbox = pattern;
  } else if (fs::exists(sandbox) && !fs::is_empty(sandbox)) {
    throw Error("--sandbox " + sandbox + " is not empty: a drill restores into an empty directory", ExitCode::usage);
  }
  fs::create_directories(sandbox);
  sandbox = fs::absolute(sandbox).lexically_normal().string();
  // The sandbox goes on every path out, an interruption's too, unless it is to be kept.
  struct SandboxRemover {
    const std::string& path;
    bool keep;
    ~SandboxRemover() {
      std::error_code ignored;
      if (!keep) fs::remove_all(path, ignored);
    }
  } remover{sandbox, options.keep};
  return Drill(config, discovery, access, options, sandbox).run();
}

void record_drill(repo::Repository& primary, const DrillResult& result) {
  repo::JournalEntry entry;
  entry.kind = "drill";
  entry.time_ns = now_unix_nanos();
  entry.site = result.site;
  entry.hostname = hostname();
  entry.details = result.to_json("");
  entry.details.erase("report_html");
  entry.details.erase("message_type");
  repo::append_journal(primary, entry);
}

}  // namespace obkeep::ops
