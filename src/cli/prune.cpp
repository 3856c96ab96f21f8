// `obkeep forget` and `obkeep prune`: apply retention rules, then free the space.
#include <iostream>

#include "cli/common.hpp"
#include "repo/forget_policy.hpp"
#include "repo/lock.hpp"
#include "repo/prune.hpp"
#include "storage/s3/object_lock.hpp"
#include "util/error.hpp"
#include "util/host.hpp"

namespace obkeep::cli {

using nlohmann::json;

// An append-only site keeps everything: refuse before the first deletion, not after it.
static void require_deletions(repo::Repository& repository, const std::string& what) {
  if (repository.backend().append_only())
    throw storage::AppendOnlyRefusal(repository.backend().location() + ": the site is append-only: refused to " + what +
                                     " (run it on the server, or through a key whose forced command has no --append-only)");
}
using storage::retention_end;

static int run_prune(const GlobalOptions& global, repo::Repository& repository, bool dry_run) {
  repo::PruneOptions options;
  options.dry_run = dry_run;
  repo::PruneResult result = repo::prune(repository, options);
  if (global.json) {
    std::cout << json{{"message_type", "prune"},          {"dry_run", dry_run},
                      {"packs_deleted", result.packs_deleted}, {"packs_repacked", result.packs_repacked},
                      {"packs_kept", result.packs_kept},  {"blobs_unused", result.blobs_unused},
                      {"bytes_freed", result.bytes_freed}, {"bytes_before", result.bytes_before},
                      {"packs_retained", result.packs_retained}, {"index_files_retained", result.index_files_retained},
                      {"retained_until",
                       result.retained_until ? json(retention_end(result.retained_until)) : json(nullptr)}}
                     .dump()
              << "\n";
  } else if (!global.quiet) {
    std::cout << (dry_run ? "would delete " : "deleted ") << result.packs_deleted << " packs, repacked "
              << result.packs_repacked << ", kept " << result.packs_kept << "; freed "
              << format_bytes(result.bytes_freed) << " of " << format_bytes(result.bytes_before) << "\n";
    if (result.packs_retained || result.index_files_retained)
      std::cout << "kept " << result.packs_retained << " packs and " << result.index_files_retained
                << " index files under S3 Object Lock retention (until " << retention_end(result.retained_until)
                << " at the latest); a later prune frees them\n";
  }
  return 0;
}

void add_prune_command(CLI::App& app, Context& context) {
  auto* command = app.add_subcommand("prune", "remove data no snapshot uses");
  auto dry_run = std::make_shared<bool>(false);
  command->add_flag("-n,--dry-run", *dry_run, "only say what would be removed");
  command->callback([&context, dry_run] {
    context.action = [&context, dry_run] {
      auto repository = open_repository(context.global);
      if (!*dry_run) require_deletions(*repository, "prune");
      repo::RepositoryLock lock(*repository, true);
      repository->load_index();
      return run_prune(context.global, *repository, *dry_run);
    };
  });
}

void add_forget_command(CLI::App& app, Context& context) {
  auto* command = app.add_subcommand("forget", "remove snapshots by retention rules (and prune with --prune)");
  struct Options {
    repo::KeepRules rules;
    std::vector<std::string> tags;
    std::vector<std::string> ids;
    bool prune = false;
    bool dry_run = false;
  };
  auto options = std::make_shared<Options>();
  command->add_option("snapshots", options->ids, "snapshot ids to forget outright");
  command->add_option("--keep-last", options->rules.last, "keep the N newest snapshots");
  command->add_option("--keep-hourly", options->rules.hourly, "keep the newest snapshot of each of N hours");
  command->add_option("--keep-daily", options->rules.daily, "keep the newest snapshot of each of N days");
  command->add_option("--keep-weekly", options->rules.weekly, "keep the newest snapshot of each of N weeks");
  command->add_option("--keep-monthly", options->rules.monthly, "keep the newest snapshot of each of N months");
  command->add_option("--keep-yearly", options->rules.yearly, "keep the newest snapshot of each of N years");
  command->add_option("--tag", options->tags, "only consider snapshots with this tag");
  command->add_flag("--prune", options->prune, "prune afterwards");
  command->add_flag("-n,--dry-run", options->dry_run, "only say what would be removed");
  command->callback([&context, options] {
    context.action = [&context, options] {
      const GlobalOptions& global = context.global;
      if (options->rules.empty() && options->ids.empty())
        throw Error("forget needs snapshot ids or at least one --keep-* rule", ExitCode::usage);
      auto repository = open_repository(global);
      if (!options->dry_run) require_deletions(*repository, options->prune ? "forget and prune" : "forget snapshots");
      repo::RepositoryLock lock(*repository, true);
      std::vector<repo::Snapshot> candidates;
      for (const auto& snapshot : repo::list_snapshots(*repository)) {
        bool match = true;
        for (const auto& tag : options->tags) match = match && snapshot.has_tag(tag);
        if (match) candidates.push_back(snapshot);
      }
      std::vector<repo::ForgetDecision> decisions;
      if (!options->ids.empty()) {
        for (const auto& id : options->ids) decisions.push_back({repo::find_snapshot(*repository, id), false, {"given"}});
      } else {
        decisions = repo::apply_keep_rules(candidates, options->rules);
      }
      json report = json::array();
      size_t removed = 0, retained = 0;
      for (auto& decision : decisions) {
        // A snapshot the store will not delete yet stays, and prune keeps its data.
        if (!decision.keep) {
          storage::Handle handle{storage::FileType::snapshot, decision.snapshot.id.hex()};
          if (auto until = repository->backend().retained_until(handle)) {
            decision.keep = true;
            decision.reasons = {"under S3 Object Lock retention until " + retention_end(*until)};
            ++retained;
          }
        }
        if (!decision.keep) {
          ++removed;
          if (!options->dry_run) repository->backend().remove({storage::FileType::snapshot, decision.snapshot.id.hex()});
        }
        report.push_back({{"id", decision.snapshot.id.hex()},
                          {"time", format_rfc3339(decision.snapshot.time_ns)},
                          {"keep", decision.keep},
                          {"reasons", decision.reasons}});
        if (!global.json && !global.quiet)
          std::cout << (decision.keep ? "keep   " : "remove ") << decision.snapshot.id.short_hex() << "  "
                    << format_rfc3339(decision.snapshot.time_ns).substr(0, 19) << "  "
                    << (decision.keep ? decision.reasons.empty() ? "" : decision.reasons.front() : "") << "\n";
      }
      if (global.json)
        std::cout << json{{"message_type", "forget"}, {"snapshots", report}, {"removed", removed},
                          {"retained", retained}}.dump()
                  << "\n";
      else if (!global.quiet)
        std::cout << (options->dry_run ? "would remove " : "removed ") << removed << " snapshots"
                  << (retained ? ", kept " + std::to_string(retained) + " under S3 Object Lock retention" : "") << "\n";
      if (options->prune) {
        repository->load_index();
        return run_prune(global, *repository, options->dry_run);
      }
      return 0;
    };
  });
}

}  // namespace obkeep::cli
