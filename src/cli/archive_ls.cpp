// `obkeep archive-ls`: list the archive entries (WAL files, binlog pieces and their epochs).
#include <algorithm>
#include <cstdio>
#include <iostream>

#include "cli/common.hpp"
#include "repo/archive_catalog.hpp"
#include "util/host.hpp"

namespace obkeep::cli {

using nlohmann::json;

void add_archive_ls_command(CLI::App& app, Context& context) {
  auto* command = app.add_subcommand("archive-ls", "list archived WAL files and binlog pieces");
  struct Options {
    std::string kind, stanza;
  };
  auto options = std::make_shared<Options>();
  command->add_option("--kind", options->kind, "only entries of this kind: wal, binlog, binlog-epoch or catalog");
  command->add_option("--stanza", options->stanza, "only this archive: a WAL stanza, or a binlog's database id");
  command->callback([&context, options] {
    context.action = [&context, options] {
      auto repository = open_repository(context.global);
      std::vector<repo::ArchiveEntry> entries = repo::read_archive(*repository, repo::list_archive_entries(*repository)).entries;
      std::erase_if(entries, [&](const repo::ArchiveEntry& entry) {
        return (!options->kind.empty() && entry.key.kind != options->kind) ||
               (!options->stanza.empty() && entry.key.stanza != options->stanza);
      });
      std::sort(entries.begin(), entries.end(), [](const repo::ArchiveEntry& a, const repo::ArchiveEntry& b) {
        return std::tie(a.key.kind, a.key.stanza, a.time_ns, a.key.file) < std::tie(b.key.kind, b.key.stanza, b.time_ns, b.key.file);
      });
      if (context.global.json) {
        json list = json::array();
        for (const repo::ArchiveEntry& entry : entries)
          list.push_back({{"name", entry.name.hex()}, {"kind", entry.key.kind}, {"stanza", entry.key.stanza}, {"file", entry.key.file},
                          {"size", entry.size}, {"time", format_rfc3339(entry.time_ns)}, {"meta", entry.meta}});
        std::cout << list.dump() << "\n";
        return 0;
      }
      std::printf("%-12s  %-19s  %12s  %-24s  %s\n", "Kind", "Time", "Size", "Stanza", "File");
      for (const repo::ArchiveEntry& entry : entries) {
        std::string time = format_rfc3339(entry.time_ns).substr(0, 19);
        time[10] = ' ';
        std::printf("%-12s  %-19s  %12llu  %-24s  %s\n", entry.key.kind.c_str(), time.c_str(),
                    static_cast<unsigned long long>(entry.size), entry.key.stanza.c_str(), entry.key.file.c_str());
      }
      std::printf("%zu entries\n", entries.size());
      return 0;
    };
  });
}

}  // namespace obkeep::cli
