// `obkeep discover --home DIR... | --config FILE [--json]`: what a deployment backup takes.
#include <iostream>

#include "cli/common.hpp"
#include "deploy/backup_sets.hpp"
#include "deploy/discovery.hpp"
#include "util/error.hpp"

namespace obkeep::cli {

using nlohmann::json;

static json database_json(const deploy::Database& database) {
  bool server = database.engine != deploy::Engine::h2;
  json out = {{"id", database.id},
              {"engine", deploy::to_string(database.engine)},
              {"database", database.database},
              {"host", server && !database.host.empty() ? json(database.host) : json(nullptr)},
              {"port", server && database.port ? json(*database.port) : json(nullptr)},
              {"homes", database.homes},
              {"datasources", database.datasources},
              {"method", database.method},
              {"credentials", database.credentials}};
  if (!database.reason.empty()) out["reason"] = database.reason;
  if (!database.user.empty()) out["user"] = database.user;
  return out;
}

void add_discover_command(CLI::App& app, Context& context) {
  auto* command = app.add_subcommand("discover", "show the homes, datasources and databases a deployment backup takes");
  struct Options {
    std::vector<std::string> homes;
  };
  auto options = std::make_shared<Options>();
  command->add_option("--home", options->homes, "a WSO2 server home (repeatable)");
  command->callback([&context, options] {
    context.action = [&context, options] {
      deploy::Config none;
      const deploy::Config& config = context.global.config.empty() ? none : config_of(context.global, "discover");
      std::vector<std::string> homes = options->homes.empty() ? config.homes : options->homes;
      deploy::Discovery discovery = deploy::discover(homes, context.global.config.empty() ? nullptr : &config);
      auto plan = deploy::plan_backup_sets(config, discovery, {});
      if (context.global.json) {
        json databases = json::array();
        for (const auto& database : discovery.databases) databases.push_back(database_json(database));
        json sets = json::array();
        for (const auto& planned : plan) {
          json entry = {{"set", planned.set}, {"tags", planned.tags}};
          if (planned.database) entry["database"] = planned.database->id;
          else entry["paths"] = planned.paths;
          sets.push_back(entry);
        }
        std::cout << json{{"homes", discovery.homes}, {"datasource_files", discovery.datasource_files},
                          {"databases", databases}, {"sets", sets}}
                         .dump(2)
                  << "\n";
        return 0;
      }
      std::cout << "Homes:\n";
      for (const auto& home : discovery.homes) std::cout << "  " << home << "\n";
      std::cout << "Datasource files:\n";
      for (const auto& file : discovery.datasource_files) std::cout << "  " << file << "\n";
      std::cout << "Databases (" << discovery.databases.size() << "):\n";
      for (const auto& database : discovery.databases) {
        std::cout << "  " << database.display_name() << "  [" << deploy::to_string(database.engine) << "]  ";
        if (database.engine == deploy::Engine::h2 || database.host.empty())
          std::cout << database.database;
        else
          std::cout << database.host << ":" << (database.port ? std::to_string(*database.port) : "?") << "/"
                    << database.database;
        std::cout << "\n    id: " << database.id << "\n    datasources: ";
        for (size_t i = 0; i < database.datasources.size(); ++i) std::cout << (i ? ", " : "") << database.datasources[i];
        std::cout << "\n    homes: ";
        for (size_t i = 0; i < database.homes.size(); ++i) std::cout << (i ? ", " : "") << database.homes[i];
        std::cout << "\n    method: " << database.method << "\n    credentials: " << database.credentials << "\n";
      }
      std::cout << "Sets:\n";
      for (const auto& planned : plan) {
        std::cout << "  " << planned.set << ": "
                  << (planned.database ? planned.database->id : planned.paths.front()) << "\n";
      }
      return 0;
    };
  });
}

}  // namespace obkeep::cli
