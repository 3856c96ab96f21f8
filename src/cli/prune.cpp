// `obkeep forget` and `obkeep prune`: apply retention rules, then free the space.
#include <iostream>

#include "cli/common.hpp"
#include "ops/retention.hpp"
#include "repo/lock.hpp"
#include "storage/s3/object_lock.hpp"
#include "util/error.hpp"
#include "util/host.hpp"

namespace obkeep::cli {

using nlohmann::json;
using storage::retention_end;

static int run_prune(const GlobalOptions& global, repo::Repository& repository, bool dry_run) {
  repo::PruneResult result = ops::prune_repository(repository, dry_run);
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
      if (!*dry_run) ops::require_deletions(*repository, "prune");
      repo::RepositoryLock lock(*repository, true, [&] { repository->load_index(); });
      return run_prune(context.global, *repository, *dry_run);
    };
  });
}

void add_forget_command(CLI::App& app, Context& context) {
  auto* command = app.add_subcommand(
      "forget", "remove snapshots by retention rules (or, with --config and no rules, by each set's policy) and prune with --prune");
  struct Options {
    ops::ForgetOptions forget;
    bool prune = false;
  };
  auto options = std::make_shared<Options>();
  repo::KeepRules& rules = options->forget.rules;
  command->add_option("snapshots", options->forget.ids, "snapshot ids to forget outright");
  command->add_option("--keep-last", rules.last, "keep the N newest snapshots");
  command->add_option("--keep-hourly", rules.hourly, "keep the newest snapshot of each of N hours");
  command->add_option("--keep-daily", rules.daily, "keep the newest snapshot of each of N days");
  command->add_option("--keep-weekly", rules.weekly, "keep the newest snapshot of each of N weeks");
  command->add_option("--keep-monthly", rules.monthly, "keep the newest snapshot of each of N months");
  command->add_option("--keep-yearly", rules.yearly, "keep the newest snapshot of each of N years");
  command->add_option("--tag", options->forget.tags, "only consider snapshots with this tag");
  command->add_flag("--prune", options->prune, "prune afterwards");
  command->add_flag("-n,--dry-run", options->forget.dry_run, "only say what would be removed");
  command->callback([&context, options] {
    context.action = [&context, options] {
      const GlobalOptions& global = context.global;
      const ops::ForgetOptions& forget = options->forget;
      // No rules and no ids: the keep_* of each [policy.<set>] in the config.
      bool by_policy = forget.rules.empty() && forget.ids.empty() && !global.config.empty();
      if (forget.rules.empty() && forget.ids.empty() && !by_policy)
        throw Error("forget needs snapshot ids or at least one --keep-* rule (or --config with keep_* in its policy)",
                    ExitCode::usage);
      if (by_policy && !forget.tags.empty())
        throw Error("forget by the config's policy takes no --tag: each set's rules apply to that set", ExitCode::usage);
      auto repository = open_repository(global);
      if (!forget.dry_run) ops::require_deletions(*repository, options->prune ? "forget and prune" : "forget snapshots");
      repo::RepositoryLock lock(*repository, true);
      ops::ForgetResult result = by_policy ? ops::forget_by_policy(*repository, config_of(global, "forget"), forget.dry_run)
                                           : ops::forget_snapshots(*repository, forget);
      json report = json::array();
      for (const repo::ForgetDecision& decision : result.decisions) {
        report.push_back({{"id", decision.snapshot.id.hex()},
                          {"time", format_rfc3339(decision.snapshot.time_ns)},
                          {"keep", decision.keep},
                          {"reasons", decision.reasons}});
        if (!global.json && !global.quiet)
          std::cout << (decision.keep ? "keep   " : "remove ") << decision.snapshot.id.short_hex() << "  "
                    << format_rfc3339(decision.snapshot.time_ns).substr(0, 19) << "  "
                    << (decision.keep ? decision.reasons.empty() ? "" : decision.reasons.front() : "") << "\n";
      }
      json archived = json::array();
      for (const repo::ArchiveKey& key : result.archive_removed)
        archived.push_back({{"kind", key.kind}, {"stanza", key.stanza}, {"file", key.file}});
      if (global.json)
        std::cout << json{{"message_type", "forget"}, {"snapshots", report}, {"removed", result.removed},
                          {"retained", result.retained}, {"archive_removed", archived}}.dump()
                  << "\n";
      else if (!global.quiet)
        std::cout << (forget.dry_run ? "would remove " : "removed ") << result.removed << " snapshots"
                  << (result.archive_removed.empty() ? ""
                                                     : " and " + std::to_string(result.archive_removed.size()) +
                                                           " archived WAL files and binlog pieces no kept backup needs")
                  << (result.retained ? ", kept " + std::to_string(result.retained) + " under S3 Object Lock retention" : "")
                  << "\n";
      if (options->prune) {
        // Forget loaded it when it rewrote the archive catalog.
        if (repository->loaded_index_files().empty()) repository->load_index();
        return run_prune(global, *repository, forget.dry_run);
      }
      return 0;
    };
  });
}

}  // namespace obkeep::cli
