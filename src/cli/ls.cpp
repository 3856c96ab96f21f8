// `obkeep ls SNAPSHOT [PATH]` and `obkeep diff A B`.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>

#include "archiver/backup.hpp"
#include "archiver/live_diff.hpp"
#include "archiver/replace_in_place.hpp"
#include "cli/common.hpp"
#include "deploy/backup_sets.hpp"
#include "deploy/config.hpp"
#include "repo/snapshot.hpp"
#include "repo/tree.hpp"
#include "repo/tree_diff.hpp"
#include "util/error.hpp"
#include "util/host.hpp"

namespace obkeep::cli {

namespace {

void list_tree(repo::Repository& repository, const Id& tree, const std::string& path, bool recursive, bool long_format,
               bool json) {
  for (const repo::Node& node : repo::load_tree(repository, tree).nodes) {
    std::string child = path + "/" + node.name;
    if (json) {
      nlohmann::json entry = node.to_json();
      entry.erase("content");
      entry["path"] = child;
      std::cout << entry.dump() << "\n";
    } else if (long_format) {
      std::printf("%-8s %04o %5u %5u %12llu %s %s%s\n", repo::to_string(node.type), node.mode, node.uid, node.gid,
                  static_cast<unsigned long long>(node.size), format_rfc3339(node.mtime_ns).substr(0, 19).c_str(),
                  child.c_str(), node.type == repo::NodeType::symlink ? (" -> " + node.link_target).c_str() : "");
    } else {
      std::cout << child << "\n";
    }
    if (recursive && node.subtree) list_tree(repository, *node.subtree, child, recursive, long_format, json);
  }
}

}  // namespace

void add_ls_command(CLI::App& app, Context& context) {
  auto* command = app.add_subcommand("ls", "list the files of a snapshot");
  struct Options {
    std::string snapshot, path;
    bool long_format = false;
  };
  auto options = std::make_shared<Options>();
  command->add_option("snapshot", options->snapshot, "snapshot id, prefix, or latest")->required();
  command->add_option("path", options->path, "directory inside the snapshot");
  command->add_flag("-l,--long", options->long_format, "show type, mode, owner, size and time");
  command->callback([&context, options] {
    context.action = [&context, options] {
      auto repository = open_repository(context.global);
      repository->load_index();
      repo::Snapshot snapshot = repo::find_snapshot(*repository, options->snapshot);
      Id tree = snapshot.tree;
      std::string prefix;
      for (const auto& part : std::filesystem::path(options->path)) {
        std::string name = part.string();
        if (name.empty() || name == "/") continue;
        repo::Tree parent = repo::load_tree(*repository, tree);
        const repo::Node* node = parent.find(name);
        if (!node || !node->subtree) throw Error("no directory " + options->path + " in snapshot " + snapshot.id.short_hex());
        tree = *node->subtree;
        prefix += "/" + name;
      }
      list_tree(*repository, tree, prefix, true, options->long_format, context.global.json);
      return 0;
    };
  });
}

void add_diff_command(CLI::App& app, Context& context) {
  auto* command = app.add_subcommand("diff", "show what changed between two snapshots");
  struct Options {
    std::string first, second, baseline;
  };
  auto options = std::make_shared<Options>();
  command->add_option("first", options->first, "older snapshot");
  command->add_option("second", options->second, "newer snapshot");
  command->add_option("--baseline", options->baseline, "a server home: show its drift from its instance baseline");
  command->callback([&context, options] {
    context.action = [&context, options] {
      const GlobalOptions& global = context.global;
      std::vector<std::string> excludes;  // with --baseline: the config's for the instance set
      if (!global.config.empty()) {
        const deploy::Config& config = config_of(global, "diff");
        if (auto it = config.sets.find("instance"); it != config.sets.end()) excludes = it->second.exclude;
      }
      if (options->baseline.empty() == (options->first.empty() || options->second.empty()))
        throw Error("diff takes two snapshots, or --baseline HOME", ExitCode::usage);
      auto repository = open_repository(global);
      repository->load_index();
      std::vector<repo::TreeChange> changes;
      repo::Snapshot a, b;
      if (!options->baseline.empty()) {
        std::string home = archiver::absolute_path(options->baseline);
        a = repo::find_snapshot(*repository, "latest", {"set=instance", "home=" + home});
        b = a;
        for (const auto& pattern : deploy::default_excludes("instance")) excludes.push_back(pattern);
        changes = archiver::diff_live(*repository, archiver::find_node(*repository, a, home), home, excludes);
        if (!context.global.json && !context.global.quiet)
          std::cout << "drift of " << home << " since its baseline " << a.id.short_hex() << " ("
                    << format_rfc3339(a.time_ns).substr(0, 19) << "):\n";
      } else {
        a = repo::find_snapshot(*repository, options->first);
        b = repo::find_snapshot(*repository, options->second);
        changes = repo::diff_trees(*repository, a.tree, b.tree);
      }
      std::map<char, size_t> counts;  // by change kind
      nlohmann::json list = nlohmann::json::array();
      for (const auto& change : changes) {
        counts[change.kind]++;
        if (context.global.json)
          list.push_back({{"change", std::string(1, change.kind)}, {"path", change.path}});
        else
          std::cout << change.kind << "  " << change.path << "\n";
      }
      if (context.global.json) {
        std::cout << nlohmann::json{{"first", a.id.hex()}, {"second", b.id.hex()}, {"changes", list}}.dump() << "\n";
      } else if (!context.global.quiet) {
        std::cout << "added: " << counts['+'] << ", removed: " << counts['-'] << ", modified: " << counts['M']
                  << ", metadata: " << counts['U'] << ", type changed: " << counts['T'] << "\n";
      }
      return 0;
    };
  });
}

}  // namespace obkeep::cli
