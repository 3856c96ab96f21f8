// `obkeep init`: create a repository (optionally chunking like another one, for copies).
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/common.hpp"
#include "storage/s3/s3_url.hpp"
#include "util/error.hpp"

namespace obkeep::cli {

void add_init_command(CLI::App& app, Context& context) {
  auto* command = app.add_subcommand("init", "create a repository");
  struct Options {
    std::string copy_params_from;
    std::string from_password_file;
  };
  auto options = std::make_shared<Options>();
  command->add_option("--copy-params-from", options->copy_params_from,
                      "repository whose chunking parameters and blob id key to reuse, so that copies between "
                      "them send only what is missing");
  command->add_option("--from-password-file", options->from_password_file, "password file of --copy-params-from")
      ->envname("OBKEEP_FROM_PASSWORD_FILE");
  command->callback([&context, options] {
    context.action = [&context, options] {
      GlobalOptions global = with_config(context.global);
      // --site: the DR site's repository, with its own password file and object lock.
      const deploy::DrSite* site = global.site.empty() ? nullptr : &ops::find_site(config_of(global, "--site"), global.site);
      if (site) {
        global.repository = site->object_lock.enabled() ? storage::with_object_lock(site->url, site->object_lock) : site->url;
        if (!site->password_file.empty()) global.password_file = site->password_file;
      }
      if (global.repository.empty())
        throw Error("no repository given (use -r/--repo, OBKEEP_REPOSITORY or --config)", ExitCode::usage);
      repo::InitOptions init;
      if (!options->copy_params_from.empty()) {
        std::string password = read_from_password(global, options->from_password_file);
        auto source = open_repository(options->copy_params_from, password, transfer_limits(global));
        init = repo::copy_params_of(*source);
      }
      std::string password = read_password(global, "new repository password: ");
      auto backend = storage::open_backend(global.repository, transfer_limits(global, site));
      repo::Repository::init(*backend, password, init);
      if (global.json)
        std::cout << nlohmann::json{{"message_type", "initialized"}, {"repository", global.repository}}.dump() << "\n";
      else if (!global.quiet)
        std::cout << "created obkeep repository at " << global.repository << "\n";
      return 0;
    };
  });
}

}  // namespace obkeep::cli
