// Loading the config and discovering the deployment it names.
#include "cli/deployment_context.hpp"

#include <cstdlib>

namespace obkeep::cli {

DeploymentContext load_deployment(const GlobalOptions& given, const std::string& config_path) {
  DeploymentContext context;
  context.config = deploy::load_config(config_path);
  context.discovery = deploy::discover(context.config.homes, &context.config);
  context.global = given;
  if (context.global.repository.empty()) context.global.repository = context.config.repository_url;
  const char* password = std::getenv("OBKEEP_PASSWORD");
  if (context.global.password_file.empty() && !(password && *password))
    context.global.password_file = context.config.password_file;
  return context;
}

}  // namespace obkeep::cli
