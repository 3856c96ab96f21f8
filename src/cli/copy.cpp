// `obkeep copy --from-repo URL [SNAPSHOT...|--tag T|latest]`: copy snapshots into the
// repository given by -r (a DR site), sending only what it lacks. `obkeep copy --config F
// [--site NAME]`: copy a deployment's repository to its DR sites.
#include <chrono>
#include <iostream>

#include "cli/common.hpp"
#include "cli/deployment_context.hpp"
#include "cli/site_copy.hpp"
#include "repo/copy_record.hpp"
#include "repo/lock.hpp"
#include "repo/snapshot_copy.hpp"
#include "util/error.hpp"

namespace obkeep::cli {

using nlohmann::json;

namespace {

struct Options {
  std::string config;
  std::string site;
  std::string from_repo;
  std::string from_password_file;
  std::vector<std::string> snapshots;
  std::vector<std::string> tags;
};

// Named snapshots (ids, prefixes, "latest"), else every snapshot; --tag filters both.
std::vector<repo::Snapshot> select_snapshots(repo::Repository& source, const Options& options) {
  auto tagged = [&](const repo::Snapshot& snapshot) {
    for (const std::string& tag : options.tags)
      if (!snapshot.has_tag(tag)) return false;
    return true;
  };
  std::vector<repo::Snapshot> selected;
  if (options.snapshots.empty()) {
    for (repo::Snapshot& snapshot : repo::list_snapshots(source))
      if (tagged(snapshot)) selected.push_back(std::move(snapshot));
    return selected;
  }
  for (const std::string& reference : options.snapshots) {
    repo::Snapshot snapshot = repo::find_snapshot(source, reference, options.tags);
    if (!tagged(snapshot)) throw Error("snapshot " + reference + " does not have the tags given with --tag", ExitCode::usage);
    selected.push_back(std::move(snapshot));
  }
  return selected;
}

// copy --config: the config's repository to each of its DR sites (or the one --site names).
// A site that fails is reported and the others are still copied; exit 1 if any failed.
int copy_to_sites(const GlobalOptions& given, const Options& options) {
  DeploymentContext deployment = load_deployment(given, options.config);
  const deploy::Config& config = deployment.config;
  std::vector<const deploy::DrSite*> sites;
  if (!options.site.empty()) sites.push_back(&find_site(config, options.site));
  for (const deploy::DrSite& site : config.dr_sites)
    if (options.site.empty()) sites.push_back(&site);
  if (sites.empty()) throw Error(options.config + " has no [[dr_site]]", ExitCode::usage);
  auto primary = open_repository(deployment.global);
  repo::RepositoryLock lock(*primary, false);
  primary->load_index();
  int failed = 0;
  for (const deploy::DrSite* site : sites) {
    auto start = std::chrono::steady_clock::now();
    json line = {{"message_type", "site"}, {"site", site->name}};
    try {
      SiteCopyOutcome outcome = copy_to_site(*primary, *site, site_sets(config, *site), deployment.global);
      double duration = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      line.update({{"ok", true},
                   {"snapshots_copied", outcome.statistics.snapshots_copied},
                   {"snapshots_present", outcome.statistics.snapshots_present},
                   {"blobs_copied", outcome.statistics.blobs_copied},
                   {"bytes_sent", outcome.bytes_sent},
                   {"snapshots_recorded", outcome.snapshots_recorded},
                   {"duration_s", duration}});
      if (!deployment.global.json && !deployment.global.quiet)
        std::cout << "DR site " << site->name << ": " << outcome.statistics.snapshots_copied << " snapshots copied, "
                  << outcome.statistics.snapshots_present << " already there, " << format_bytes(outcome.bytes_sent)
                  << " sent in " << format_duration(duration) << "\n";
    } catch (const Error& e) {
      if (e.code() == ExitCode::interrupted) throw;
      ++failed;
      line.update({{"ok", false}, {"error", e.what()}});
      std::cerr << "obkeep: copy to DR site " << site->name << " failed: " << e.what() << "\n";
    }
    if (deployment.global.json) std::cout << line.dump() << "\n";
  }
  return failed ? static_cast<int>(ExitCode::error) : 0;
}

}  // namespace

void add_copy_command(CLI::App& app, Context& context) {
  auto* command = app.add_subcommand("copy", "copy snapshots from another repository into this one (a DR site)");
  auto options = std::make_shared<Options>();
  command->add_option("--from-repo", options->from_repo, "repository to copy from")->envname("OBKEEP_FROM_REPOSITORY");
  command->add_option("--config", options->config,
                      "instead of --from-repo and -r: copy the config's repository to its DR sites ([[dr_site]])");
  command->add_option("--site", options->site, "with --config: only this DR site");
  command->add_option("--from-password-file", options->from_password_file,
                      "password file of --from-repo (default: OBKEEP_FROM_PASSWORD, else this repository's password)")
      ->envname("OBKEEP_FROM_PASSWORD_FILE");
  command->add_option("--tag", options->tags, "only snapshots with this tag (repeatable: all must match)");
  command->add_option("snapshots", options->snapshots, "snapshot ids, prefixes or 'latest' (default: all)");
  command->callback([&context, options] {
    context.action = [&context, options] {
      if (!options->config.empty()) {
        if (!options->from_repo.empty() || !options->snapshots.empty() || !options->tags.empty())
          throw Error("copy --config takes no --from-repo, snapshots or --tag: the config says what goes where",
                      ExitCode::usage);
        return copy_to_sites(context.global, *options);
      }
      if (options->from_repo.empty()) throw Error("copy needs --from-repo (or --config)", ExitCode::usage);
      if (!options->site.empty()) throw Error("--site goes with --config", ExitCode::usage);
      const GlobalOptions& global = context.global;
      auto start = std::chrono::steady_clock::now();
      auto source = open_repository(options->from_repo, read_from_password(global, options->from_password_file),
                                    transfer_limits(global));
      auto destination = open_repository(global);
      if (source->config().id == destination->config().id)
        throw Error("--from-repo " + options->from_repo + " is the same repository as -r", ExitCode::usage);
      repo::RepositoryLock source_lock(*source, false);
      repo::RepositoryLock destination_lock(*destination, false);
      source->load_index();
      destination->load_index();
      destination->adopt_unindexed_packs();  // a copy cut before: what it sent is not sent again
      std::vector<repo::Snapshot> selected = select_snapshots(*source, *options);
      repo::SnapshotCopier copier(*source, *destination);
      if (!copier.related() && !global.quiet)
        std::cerr << "obkeep: the repositories are not related (make the copy's repository with init "
                     "--copy-params-from): every blob is read and hashed again\n";
      repo::CopyLog log(*source, *destination, global.repository);
      uint64_t stored_before = destination->statistics().bytes_stored;
      for (const repo::Snapshot& snapshot : selected) {
        uint64_t copied_before = copier.statistics().snapshots_copied;
        Id id = copier.copy(snapshot);
        log.note(snapshot, id);
        bool copied = copier.statistics().snapshots_copied != copied_before;
        if (global.json) {
          std::cout << json{{"message_type", "snapshot"}, {"source", snapshot.id.hex()}, {"snapshot_id", id.hex()},
                            {"copied", copied}}.dump()
                    << "\n";
        } else if (!global.quiet) {
          std::cout << (copied ? "copied " : "already there: ") << snapshot.id.short_hex() << " → " << id.short_hex()
                    << "\n";
        }
      }
      // The source may be a read-only mirror: the copy stands without its record.
      size_t recorded = 0;
      try {
        recorded = log.save();
      } catch (const Error& e) {
        if (e.code() == ExitCode::interrupted) throw;
        std::cerr << "obkeep: warning: the copy is done but " << options->from_repo
                  << " could not record it (check --site cannot compare): " << e.what() << "\n";
      }
      const repo::CopyStatistics& statistics = copier.statistics();
      uint64_t bytes_sent = destination->statistics().bytes_stored - stored_before;
      double duration = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (global.json) {
        std::cout << json{{"message_type", "summary"},
                          {"snapshots_copied", statistics.snapshots_copied},
                          {"snapshots_present", statistics.snapshots_present},
                          {"blobs_copied", statistics.blobs_copied},
                          {"bytes_copied", statistics.bytes_copied},
                          {"bytes_sent", bytes_sent},
                          {"snapshots_recorded", recorded},
                          {"related", copier.related()},
                          {"duration_s", duration}}.dump()
                  << "\n";
      } else if (!global.quiet) {
        std::cout << statistics.snapshots_copied << " snapshots copied, " << statistics.snapshots_present
                  << " already there; " << statistics.blobs_copied << " blobs, " << format_bytes(bytes_sent)
                  << " sent in " << format_duration(duration) << "\n";
      }
      return 0;
    };
  });
}

}  // namespace obkeep::cli
