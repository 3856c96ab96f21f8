// A loaded deployment: config, discovery, and the global options completed from the config.
#pragma once

#include "cli/cli.hpp"
#include "deploy/config.hpp"
#include "deploy/discovery.hpp"

namespace obkeep::cli {

struct DeploymentContext {
  deploy::Config config;
  deploy::Discovery discovery;
  GlobalOptions global;  // -r and the password file default to the config's
};

DeploymentContext load_deployment(const GlobalOptions& given, const std::string& config_path);

int run_deployment_backup(const GlobalOptions& global, const struct BackupCommandOptions& options);

}  // namespace obkeep::cli
