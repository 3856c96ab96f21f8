// `obkeep restore SNAPSHOT --target DIR`: recreate the saved paths under DIR.
#include <iostream>

#include "archiver/backup.hpp"
#include "archiver/replace_in_place.hpp"
#include "archiver/restore.hpp"
#include "archiver/restore_start.hpp"
#include "deploy/server_state.hpp"
#include "cli/common.hpp"
#include "repo/snapshot.hpp"
#include "util/error.hpp"

namespace obkeep::cli {

void add_restore_command(CLI::App& app, Context& context) {
  auto* command = app.add_subcommand("restore", "restore a snapshot into a target directory");
  struct Options {
    std::string snapshot;
    std::string target;
    std::vector<std::string> includes;
    bool verify = false;
    std::string set, home;
    bool force = false;
  };
  auto options = std::make_shared<Options>();
  command->add_option("snapshot", options->snapshot, "snapshot id, unique prefix, or latest (default with --set)");
  command->add_option("-t,--target", options->target, "directory to restore into");
  command->add_option("--set", options->set, "artifacts or instance: replace HOME/repository or the whole HOME in place");
  command->add_option("--home", options->home, "with --set: the server home");
  command->add_flag("--force", options->force, "with --set: replace even though the server looks running");
  command->add_option("--include", options->includes, "restore only this absolute path of the snapshot (repeatable)");
  command->add_flag("--verify", options->verify, "reread every restored file and check it against the snapshot");
  command->callback([&context, options] {
    context.action = [&context, options] {
      const GlobalOptions& global = context.global;
      if (options->set.empty() && (options->snapshot.empty() || options->target.empty()))
        throw Error("restore needs a snapshot and --target (or --set and --home)", ExitCode::usage);
      std::vector<std::string> tags;
      std::string home;
      if (!options->set.empty()) {
        if (options->set != "artifacts" && options->set != "instance")
          throw Error("--set for restore is artifacts or instance (databases: use restore-db)", ExitCode::usage);
        if (options->home.empty()) throw Error("--set needs --home", ExitCode::usage);
        home = archiver::absolute_path(options->home);
        tags = {"set=" + options->set, "home=" + home};
      }
      // It reads every index file and snapshot: fetched while the repository opens and locks.
      auto repository = open_repository(global, {storage::FileType::index, storage::FileType::snapshot});
      archiver::RestoreStart start = archiver::start_restore(
          *repository, options->snapshot.empty() ? "latest" : options->snapshot, tags, options->set.empty());
      const repo::Snapshot& snapshot = start.snapshot;
      if (!options->set.empty() && options->target.empty()) {
        std::string path = options->set == "artifacts" ? home + "/repository" : home;
        std::string running = deploy::server_running_reason(home);
        if (!running.empty() && !options->force)
          throw Error("refusing to replace " + path + " while the server runs: " + running + " (stop it, or use --force)");
        archiver::ReplaceResult replaced = archiver::replace_in_place(*repository, snapshot, path);
        for (const auto& warning : replaced.restore.warnings) std::cerr << "warning: " << warning << "\n";
        if (global.json) {
          std::cout << nlohmann::json{{"message_type", "summary"}, {"snapshot_id", snapshot.id.hex()},
                                      {"replaced", path}, {"rollback", replaced.rollback},
                                      {"files_restored", replaced.restore.files},
                                      {"files_verified", replaced.restore.verified_files},
                                      {"kept_excluded", replaced.kept_excluded},
                                      {"bytes_restored", replaced.restore.bytes}}
                           .dump()
                    << "\n";
        } else if (!global.quiet) {
          std::cout << "replaced " << path << " with snapshot " << snapshot.id.short_hex() << " ("
                    << replaced.restore.files << " files verified)\n";
          if (replaced.kept_excluded)
            std::cout << "kept " << replaced.kept_excluded << " entries the backup excludes (H2 files, logs…) from the current tree\n";
          if (!replaced.rollback.empty()) std::cout << "the previous tree is kept at " << replaced.rollback << "\n";
        }
        return 0;
      }
      archiver::RestoreOptions restore;
      restore.target = options->target;
      restore.verify = options->verify;
      restore.trees = start.trees;
      for (const auto& include : options->includes) restore.includes.push_back(archiver::absolute_path(include));
      archiver::RestoreProgress progress;
      archiver::RestoreResult result;
      {
        ProgressLine line(global, [&](double elapsed) {
          return "[" + format_duration(elapsed) + "] restored " + std::to_string(progress.files_done.load()) +
                 " files, " + format_bytes(progress.bytes_done);
        });
        result = archiver::restore_tree(*repository, snapshot.tree, restore, &progress);
      }
      for (const auto& warning : result.warnings) std::cerr << "warning: " << warning << "\n";
      for (const auto& error : result.errors) std::cerr << "error: " << error << "\n";
      if (global.json) {
        std::cout << nlohmann::json{{"message_type", "summary"}, {"snapshot_id", snapshot.id.hex()},
                                    {"files_restored", result.files},  {"directories", result.directories},
                                    {"symlinks", result.links},        {"bytes_restored", result.bytes},
                                    {"files_verified", result.verified_files},
                                    {"files_unchanged", result.unchanged_files},
                                    {"errors", result.errors.size()},  {"warnings", result.warnings.size()}}
                         .dump()
                  << "\n";
      } else if (!global.quiet) {
        std::cout << "restored snapshot " << snapshot.id.short_hex() << " to " << options->target << ": "
                  << result.files << " files, " << result.directories << " directories, "
                  << format_bytes(result.bytes);
        if (result.unchanged_files)
          std::cout << " (" << result.unchanged_files << " files, " << format_bytes(result.unchanged_bytes)
                    << " already in place)";
        std::cout << "\n";
      }
      if (!result.errors.empty())
        throw Error(std::to_string(result.errors.size()) + " entries of snapshot " + snapshot.id.short_hex() +
                    " could not be restored (named above)");
      return 0;
    };
  });
}

}  // namespace obkeep::cli
