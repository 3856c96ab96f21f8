// `obkeep sample-deployment DIR`: write the sample OB 1.5 deployment (demo and tests).
#include <iostream>

#include "cli/cli.hpp"
#include "deploy/sample_deployment.hpp"

namespace obkeep::cli {

void add_sample_deployment_command(CLI::App& app, Context& context) {
  auto* command = app.add_subcommand("sample-deployment", "write a small sample OB 1.5 deployment (for trying obkeep)");
  command->group("");  // hidden from --help: a tool for demos and tests
  auto directory = std::make_shared<std::string>();
  command->add_option("directory", *directory, "where to write the two server homes")->required();
  command->callback([&context, directory] {
    context.action = [directory] {
      deploy::write_sample_deployment(*directory);
      std::cout << *directory << "/wso2-obkm-1.5.0\n" << *directory << "/wso2-obam-1.5.0\n";
      return 0;
    };
  });
}

}  // namespace obkeep::cli
