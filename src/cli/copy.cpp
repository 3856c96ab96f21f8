// `obkeep copy --from-repo URL [SNAPSHOT...|--tag T|latest]`: copy snapshots into the
// repository given by -r, --config or --site (a DR site), sending only what it lacks.
// `obkeep copy --config F [--site NAME]`: copy a deployment's repository to its DR sites.
#include <algorithm>
#include <chrono>
#include <future>
#include <iostream>
#include <optional>

#include "cli/common.hpp"
#include "cli/deployment_context.hpp"
#include "ops/site_copy.hpp"
#include "repo/copy_record.hpp"
#include "repo/lock.hpp"
#include "repo/snapshot_copy.hpp"
#include "util/error.hpp"
#include "util/parallel_tasks.hpp"

namespace obkeep::cli {

using nlohmann::json;

namespace {

struct CopyCommandOptions {
  std::string from_repo;
  std::string from_password_file;
  std::vector<std::string> snapshots;
  std::vector<std::string> tags;
  bool init = false;
};

// Named snapshots (ids, prefixes, "latest"), else every snapshot; --tag filters both.
std::vector<repo::Snapshot> select_snapshots(repo::Repository& source, const CopyCommandOptions& options) {
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
int copy_to_sites(const GlobalOptions& given, bool create_missing) {
  DeploymentContext deployment = load_deployment(given, "copy");
  const GlobalOptions& global = deployment.global;
  ops::CopyToSitesOptions options;
  options.site = global.site;
  options.create_missing = create_missing;
  options.on_site_done = [&global](const ops::SiteCopyResult& result) {
    json line = {{"message_type", "site"}, {"site", result.site}};
    if (result.ok) {
      const ops::SiteCopyOutcome& outcome = result.outcome;
      line.update({{"ok", true},
                   {"site_created", outcome.site_created},
                   {"snapshots_copied", outcome.statistics.snapshots_copied},
                   {"snapshots_present", outcome.statistics.snapshots_present},
                   {"wal_files_copied", outcome.statistics.archive_entries_copied},
                   {"blobs_copied", outcome.statistics.blobs_copied},
                   {"bytes_sent", outcome.bytes_sent},
                   {"snapshots_recorded", outcome.snapshots_recorded},
                   {"duration_s", result.duration_s}});
      if (!global.json && !global.quiet)
        std::cout << "DR site " << result.site << ": " << (outcome.site_created ? "repository created, " : "")
                  << outcome.statistics.snapshots_copied << " snapshots copied, "
                  << outcome.statistics.snapshots_present << " already there, "
                  << outcome.statistics.archive_entries_copied << " WAL files copied, " << format_bytes(outcome.bytes_sent)
                  << " sent in " << format_duration(result.duration_s) << "\n";
    } else {
      line.update({{"ok", false}, {"error", result.error}});
      std::cerr << "obkeep: copy to DR site " << result.site << " failed: " << result.error << "\n";
    }
    if (global.json) std::cout << line.dump() << "\n";
  };
  std::vector<ops::SiteCopyResult> results =
      ops::copy_to_sites(deployment.config, deployment.primary, options, stderr_log(global));
  bool failed = std::any_of(results.begin(), results.end(), [](const ops::SiteCopyResult& r) { return !r.ok; });
  return failed ? static_cast<int>(ExitCode::error) : 0;
}

}  // namespace

void add_copy_command(CLI::App& app, Context& context) {
  auto* command = app.add_subcommand("copy", "copy snapshots from another repository into this one (a DR site)");
  auto options = std::make_shared<CopyCommandOptions>();
  command->add_option("--from-repo", options->from_repo, "repository to copy from")->envname("OBKEEP_FROM_REPOSITORY");
  command->add_option("--from-password-file", options->from_password_file,
                      "password file of --from-repo (default: OBKEEP_FROM_PASSWORD, else this repository's password)")
      ->envname("OBKEEP_FROM_PASSWORD_FILE");
  command->add_option("--tag", options->tags, "only snapshots with this tag (repeatable: all must match)");
  command->add_option("snapshots", options->snapshots, "snapshot ids, prefixes or 'latest' (default: all)");
  command->add_flag("--init", options->init,
                    "create the destination (each DR site with --config) when it holds no repository yet, related to "
                    "the source as init --copy-params-from makes it");
  command->callback([&context, options] {
    context.action = [&context, options] {
      // --from-repo given: a copy from it into the repository that -r, --config or --site
      // name; else --config names the source and its DR sites the destinations.
      if (options->from_repo.empty()) {
        if (context.global.config.empty()) throw Error("copy needs --from-repo (or --config)", ExitCode::usage);
        if (!options->snapshots.empty() || !options->tags.empty())
          throw Error("copy --config takes no snapshots or --tag: the config says what goes where", ExitCode::usage);
        return copy_to_sites(context.global, options->init);
      }
      const GlobalOptions& global = context.global;
      auto start = std::chrono::steady_clock::now();
      // The source opens (a key derivation) while the destination's handshake goes on; its
      // password is asked first, so that two prompts never run at once.
      std::string from_password = read_from_password(global, options->from_password_file);
      std::unique_ptr<repo::Repository> source;
      std::shared_future<void> source_opened = std::async(std::launch::async, [&] {
                                                 source = open_repository(options->from_repo, from_password,
                                                                          transfer_limits(global));
                                               }).share();
      auto opened_source = [&source_opened, &source]() -> const repo::Repository& {
        std::shared_future<void>(source_opened).get();  // a copy of its own for each thread
        return *source;
      };
      std::unique_ptr<repo::Repository> destination;
      bool created = false;
      std::optional<repo::RepositoryLock> source_lock, destination_lock;  // released before the repositories
      std::vector<repo::Snapshot> selected;
      repo::CopyDestinationContents present;
      // Snapshots named on the command line are found before a destination is made: a
      // mistyped id makes nothing.
      std::promise<void> chosen;
      std::shared_future<void> snapshots_chosen = chosen.get_future().share();
      // The two starts side by side (each a lock, then its index and listings): at a far
      // site each is several round trips.
      run_parallel(2, 2, [&](size_t side) {
        if (side == 0) {
          if (options->init && !options->snapshots.empty()) snapshots_chosen.get();
          destination = options->init ? open_or_create_repository(global, opened_source, &created) : open_repository(global);
          if (opened_source().config().id == destination->config().id)
            throw Error("--from-repo " + options->from_repo + " is the same repository as the destination", ExitCode::usage);
          destination_lock.emplace(*destination, false);
          present = repo::ready_copy_destination(*destination, created);
        } else {
          try {
            opened_source();
            source_lock.emplace(*source, false);
            source->load_index_alongside([&] { selected = select_snapshots(*source, *options); });
          } catch (...) {
            chosen.set_exception(std::current_exception());
            throw;
          }
          chosen.set_value();
        }
      });
      if (created && !global.json && !global.quiet)
        std::cout << "created obkeep repository at " << destination->backend().location() << "\n";
      repo::SnapshotCopier copier(*source, *destination, std::move(present));
      if (!copier.related() && !global.quiet)
        std::cerr << "obkeep: the repositories are not related (make the copy's repository with init "
                     "--copy-params-from): every blob is read and hashed again\n";
      // Records are matched to a site by its repository id; the name is for people.
      repo::CopyLog log(*source, *destination, global.site.empty() ? destination->backend().location() : global.site);
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
      // A whole copy takes the WAL and binlog archives too (archive entries are not snapshots).
      if (options->snapshots.empty() && options->tags.empty())
        copier.copy_archive_entries([&](const repo::ArchiveEntry& entry) { log.note_archive_entry(entry); });
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
                          {"wal_files_copied", statistics.archive_entries_copied},  // the name before binlog pieces
                          {"archive_entries_copied", statistics.archive_entries_copied},
                          {"blobs_copied", statistics.blobs_copied},
                          {"bytes_copied", statistics.bytes_copied},
                          {"bytes_sent", bytes_sent},
                          {"snapshots_recorded", recorded},
                          {"related", copier.related()},
                          {"created", created},
                          {"duration_s", duration}}.dump()
                  << "\n";
      } else if (!global.quiet) {
        std::cout << statistics.snapshots_copied << " snapshots copied, " << statistics.snapshots_present
                  << " already there; " << statistics.archive_entries_copied << " archived WAL files and binlog pieces; " << statistics.blobs_copied
                  << " blobs, " << format_bytes(bytes_sent)
                  << " sent in " << format_duration(duration) << "\n";
      }
      return 0;
    };
  });
}

}  // namespace obkeep::cli
