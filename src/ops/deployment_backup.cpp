// `obkeep backup --config FILE [--set …]`: one snapshot per set and home (artifacts,
// instance) and per database; one failing database does not stop the others (exit 3).
// Then copies to the DR sites marked after_backup (a failed copy: exit 1).
#include <algorithm>
#include <iostream>

#include "cli/backup_run.hpp"
#include "cli/common.hpp"
#include "cli/database_backup.hpp"
#include "cli/deployment_context.hpp"
#include "cli/site_copy.hpp"
#include "deploy/backup_sets.hpp"
#include "repo/lock.hpp"
#include "util/error.hpp"
#include "util/subprocess.hpp"

namespace obkeep::cli {

using nlohmann::json;

static void run_hook(const std::string& command, const std::string& name) {
  if (command.empty()) return;
  SubprocessResult result = run_subprocess({"/bin/sh", "-c", command}, {}, [](ByteView data) {
    std::cerr.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  });
  if (result.exit_code != 0)
    throw Error("hooks." + name + " failed (exit " + std::to_string(result.exit_code) + "): " + result.stderr_tail);
}

int run_deployment_backup(const GlobalOptions& given, const BackupCommandOptions& options) {
  DeploymentContext deployment = load_deployment(given, options.config);
  auto plan = deploy::plan_backup_sets(deployment.config, deployment.discovery, options.sets);
  run_hook(deployment.config.before_backup, "before_backup");
  auto repository = open_repository(deployment.global);
  repo::RepositoryLock lock(*repository, false);
  repository->load_index();
  json results = json::array();
  int failures = 0, partial = 0, copy_failures = 0;
  for (const auto& planned : plan) {
    json entry = {{"set", planned.set}, {"tags", planned.tags}};
    try {
      if (planned.database) {
        entry["database"] = planned.database->id;
        entry["datasources"] = planned.database->datasources;
        DatabaseBackupOutcome outcome = backup_database(*repository, *planned.database, planned.tags, 2);
        entry["snapshot_id"] = outcome.snapshot.hex();
        entry["report"] = report_json(outcome.report);
        entry["bytes_processed"] = outcome.bytes;
        entry["duration_s"] = outcome.duration_s;
        entry["ok"] = true;
        for (const auto& warning : outcome.report.warnings) std::cerr << "warning: " << warning << "\n";
        if (!deployment.global.quiet && !deployment.global.json)
          std::cout << "databases  " << planned.database->display_name() << " (" << planned.database->id << "): snapshot "
                    << outcome.snapshot.short_hex() << ", " << format_bytes(outcome.bytes) << ", "
                    << outcome.report.consistency << "\n";
      } else {
        entry["home"] = planned.home;
        PathBackupRequest request{planned.paths, planned.tags, planned.excludes, options.force,
                                  options.read_concurrency, 0};
        PathBackupOutcome outcome = backup_paths_as_snapshot(deployment.global, *repository, request);
        entry["snapshot_id"] = outcome.snapshot.hex();
        entry["summary"] = outcome.summary;
        entry["ok"] = outcome.result.errors.empty();
        if (!outcome.result.errors.empty()) ++partial;
        if (!deployment.global.quiet && !deployment.global.json)
          std::cout << planned.set << (planned.set == "artifacts" ? "  " : "   ") << planned.paths.front()
                    << ": snapshot " << outcome.snapshot.short_hex() << ", "
                    << format_bytes(outcome.summary["bytes_added"].get<uint64_t>()) << " added\n";
      }
    } catch (const Error& e) {
      if (e.code() == ExitCode::interrupted) throw;
      std::string what = planned.database ? "database " + planned.database->display_name() : planned.set;
      // A repository that can no longer store anything fails every set after this one too.
      if (repository->save_failed()) throw Error(what + ": " + e.what(), e.code());
      ++failures;
      entry["ok"] = false;
      entry["error"] = e.what();
      std::cerr << "error: " << what << ": " << e.what() << "\n";
    }
    results.push_back(entry);
  }
  run_hook(deployment.config.after_backup, "after_backup");
  // DR sites that want every backup at once: the sets just taken, as far as a site holds them.
  json copies = json::array();
  for (const deploy::DrSite& site : deployment.config.dr_sites) {
    if (!site.after_backup) continue;
    std::vector<std::string> sets;
    for (const std::string& set : site_sets(deployment.config, site))
      if (set == "wal" || std::any_of(plan.begin(), plan.end(), [&](const auto& planned) { return planned.set == set; }))
        sets.push_back(set);
    json copy = {{"site", site.name}};
    try {
      SiteCopyOutcome outcome = copy_to_site(*repository, site, sets, deployment.global);
      copy.update({{"ok", true}, {"snapshots_copied", outcome.statistics.snapshots_copied}, {"bytes_sent", outcome.bytes_sent}});
      if (!deployment.global.quiet && !deployment.global.json)
        std::cout << "copied to DR site " << site.name << ": " << outcome.statistics.snapshots_copied << " snapshots, "
                  << format_bytes(outcome.bytes_sent) << "\n";
    } catch (const Error& e) {
      if (e.code() == ExitCode::interrupted) throw;
      ++copy_failures;
      copy.update({{"ok", false}, {"error", e.what()}});
      std::cerr << "error: copy to DR site " << site.name << ": " << e.what() << "\n";
    }
    copies.push_back(copy);
  }
  if (deployment.global.json) {
    json summary = {{"message_type", "deployment_summary"}, {"snapshots", results}, {"dr_copies", copies}, {"failed", failures}};
    std::cout << summary.dump() << "\n";
  } else if (!deployment.global.quiet) {
    std::cout << results.size() - failures << " of " << results.size() << " backups done";
    if (failures) std::cout << ", " << failures << " failed (named above)";
    if (copy_failures) std::cout << "; " << copy_failures << " DR copies failed (named above)";
    std::cout << "\n";
  }
  // Backups that failed weigh more than a DR copy that failed (which the next run retries).
  if (failures || partial) return static_cast<int>(ExitCode::partial);
  return copy_failures ? static_cast<int>(ExitCode::error) : 0;
}

}  // namespace obkeep::cli
