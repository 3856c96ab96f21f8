// The deployment backup: hooks, one snapshot per planned set, then the after_backup copies.
#include "ops/deployment_backup.hpp"

#include <algorithm>

#include "deploy/backup_sets.hpp"
#include "repo/lock.hpp"
#include "util/error.hpp"
#include "util/subprocess.hpp"

namespace obkeep::ops {

namespace {

void run_hook(const std::string& command, const std::string& name, const Log& log) {
  if (command.empty()) return;
  SubprocessResult result = run_subprocess({"/bin/sh", "-c", command}, {}, [&](ByteView data) {
    log(LogLevel::output, std::string(reinterpret_cast<const char*>(data.data()), data.size()));
  });
  if (result.exit_code != 0)
    throw Error("hooks." + name + " failed (exit " + std::to_string(result.exit_code) + "): " + result.stderr_tail);
}

}  // namespace

int DeploymentBackupResult::exit_code() const {
  if (failed || partial) return static_cast<int>(ExitCode::partial);
  return copies_failed ? static_cast<int>(ExitCode::error) : 0;
}

DeploymentBackupResult backup_deployment(const deploy::Config& config, const deploy::Discovery& discovery,
                                         const RepositoryAccess& access, const DeploymentBackupOptions& options,
                                         const Log& log) {
  auto plan = deploy::plan_backup_sets(config, discovery, options.sets);
  run_hook(config.before_backup, "before_backup", log);
  auto repository = open_primary(access);
  repo::RepositoryLock lock(*repository, false, [&] { repository->load_index(); });
  DeploymentBackupResult result;
  for (const auto& planned : plan) {
    SetBackupResult backup;
    backup.set = planned.set;
    backup.tags = planned.tags;
    backup.database = planned.database;
    try {
      if (planned.database) {
        backup.database_outcome = backup_database(*repository, *planned.database, planned.tags, 2);
        backup.ok = true;
        for (const auto& warning : backup.database_outcome->report.warnings)
          log(LogLevel::warning, "warning: " + warning + "\n");
      } else {
        backup.home = planned.home;
        backup.paths = planned.paths;
        PathBackupRequest request{planned.paths, planned.tags, planned.excludes, options.force, options.read_concurrency, 0};
        backup.paths_outcome = backup_paths(*repository, request, log, options.display);
        backup.ok = backup.paths_outcome->result.errors.empty();
        if (!backup.ok) ++result.partial;
      }
    } catch (const Error& e) {
      if (e.code() == ExitCode::interrupted) throw;
      std::string what = planned.database ? "database " + planned.database->display_name() : planned.set;
      // A repository that can no longer store anything fails every set after this one too.
      if (repository->save_failed()) throw Error(what + ": " + e.what(), e.code());
      ++result.failed;
      backup.ok = false;
      backup.error = e.what();
      log(LogLevel::error, "error: " + what + ": " + e.what() + "\n");
    }
    if (options.on_backup_done) options.on_backup_done(backup);
    result.backups.push_back(std::move(backup));
  }
  run_hook(config.after_backup, "after_backup", log);
  // DR sites that want every backup at once: the sets just taken, as far as a site holds them.
  for (const deploy::DrSite& site : config.dr_sites) {
    if (!site.after_backup) continue;
    std::vector<std::string> sets;
    for (const std::string& set : site_sets(config, site))
      if (set == "wal" || std::any_of(plan.begin(), plan.end(), [&](const auto& planned) { return planned.set == set; }))
        sets.push_back(set);
    SiteCopyResult copy;
    copy.site = site.name;
    try {
      copy.outcome = copy_to_site(*repository, site, sets, access, log);
      copy.ok = true;
    } catch (const Error& e) {
      if (e.code() == ExitCode::interrupted) throw;
      ++result.copies_failed;
      copy.error = e.what();
      log(LogLevel::error, "error: copy to DR site " + site.name + ": " + e.what() + "\n");
    }
    if (options.on_copy_done) options.on_copy_done(copy);
    result.copies.push_back(std::move(copy));
  }
  return result;
}

}  // namespace obkeep::ops
