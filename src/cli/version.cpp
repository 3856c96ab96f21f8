// `obkeep version`: the program version and the repository format it writes.
#include <iostream>

#include "cli/cli.hpp"
#include "repo/repository.hpp"

namespace obkeep::cli {

void add_version_command(CLI::App& app, Context& context) {
  auto* command = app.add_subcommand("version", "print the obkeep version");
  command->callback([&context] {
    context.action = [] {
      std::cout << "obkeep " << OBKEEP_VERSION << " (repository format " << repo::format_version << ")\n";
      return 0;
    };
  });
}

}  // namespace obkeep::cli
