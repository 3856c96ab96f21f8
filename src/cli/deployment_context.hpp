// A loaded deployment: config, discovery, and the global options completed from the config.
#pragma once

#include "cli/cli.hpp"
#include "deploy/config.hpp"
#include "deploy/discovery.hpp"
#include "ops/repository_access.hpp"

namespace obkeep::cli {

struct DeploymentContext {
  const deploy::Config& config;
  deploy::Discovery discovery;
  GlobalOptions global;            // -r and the password file default to the config's
  ops::RepositoryAccess primary;   // how operations reach the primary repository
};

// The deployment --config (or OBKEEP_CONFIG) names; Error (usage) naming `command` without one.
DeploymentContext load_deployment(const GlobalOptions& given, const std::string& command);

}  // namespace obkeep::cli
