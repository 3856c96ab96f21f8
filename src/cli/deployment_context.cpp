// Loading the config and discovering the deployment it names.
#include "cli/deployment_context.hpp"

#include "cli/common.hpp"

namespace obkeep::cli {

DeploymentContext load_deployment(const GlobalOptions& given, const std::string& command) {
  const deploy::Config& config = config_of(given, command);
  return {config, deploy::discover(config.homes, &config), with_config(given), repository_access(given)};
}

}  // namespace obkeep::cli
