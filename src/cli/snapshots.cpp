// `obkeep snapshots`: list snapshots, optionally filtered by tag, host or path.
#include <algorithm>
#include <cstdio>
#include <iostream>

#include "cli/common.hpp"
#include "repo/snapshot.hpp"
#include "util/host.hpp"

namespace obkeep::cli {

using nlohmann::json;

json snapshot_json(const repo::Snapshot& snapshot) {
  json out = snapshot.to_json();
  out["id"] = snapshot.id.hex();
  out["short_id"] = snapshot.id.short_hex();
  out["host"] = snapshot.hostname;
  return out;
}

void add_snapshots_command(CLI::App& app, Context& context) {
  auto* command = app.add_subcommand("snapshots", "list snapshots");
  struct Options {
    std::vector<std::string> tags;
    std::string host;
    std::vector<std::string> paths;
  };
  auto options = std::make_shared<Options>();
  command->add_option("--tag", options->tags, "only snapshots with this tag (repeatable: all must match)");
  command->add_option("--host", options->host, "only snapshots of this host");
  command->add_option("--path", options->paths, "only snapshots holding this path");
  command->callback([&context, options] {
    context.action = [&context, options] {
      auto repository = open_repository(context.global);
      std::vector<repo::Snapshot> selected;
      for (const repo::Snapshot& snapshot : repo::list_snapshots(*repository)) {
        bool keep = std::all_of(options->tags.begin(), options->tags.end(),
                                [&](const std::string& tag) { return snapshot.has_tag(tag); });
        if (!options->host.empty() && snapshot.hostname != options->host) keep = false;
        for (const std::string& path : options->paths)
          if (std::find(snapshot.paths.begin(), snapshot.paths.end(), path) == snapshot.paths.end()) keep = false;
        if (keep) selected.push_back(snapshot);
      }
      if (context.global.json) {
        json list = json::array();
        for (const auto& snapshot : selected) list.push_back(snapshot_json(snapshot));
        std::cout << list.dump() << "\n";
        return 0;
      }
      std::printf("%-8s  %-19s  %-12s  %-30s  %s\n", "ID", "Time", "Host", "Tags", "Paths");
      for (const auto& snapshot : selected) {
        std::string time = format_rfc3339(snapshot.time_ns).substr(0, 19);
        time[10] = ' ';
        std::string tags;
        // home= and database= repeat what the Paths column says; --json has every tag.
        for (const auto& tag : snapshot.tags)
          if (tag.rfind("home=", 0) != 0 && tag.rfind("database=", 0) != 0) tags += (tags.empty() ? "" : ",") + tag;
        std::string paths;
        for (const auto& path : snapshot.paths) paths += (paths.empty() ? "" : " ") + path;
        std::printf("%-8s  %-19s  %-12s  %-30s  %s\n", snapshot.id.short_hex().c_str(), time.c_str(),
                    snapshot.hostname.c_str(), tags.c_str(), paths.c_str());
      }
      std::printf("%zu snapshots\n", selected.size());
      return 0;
    };
  });
}

}  // namespace obkeep::cli
