// Reading the datasources of newer products from repository/conf/deployment.toml.
#pragma once

#include <string>
#include <vector>

#include "deploy/deployment.hpp"

namespace obkeep::deploy {

// [database.<id>], [[datasource]] and [open_banking_database]; `$secret{alias}` resolved
// from [secrets] when the value there is still plain `[...]`. Throws Error
// "<file>:<line>: …" for malformed TOML.
std::vector<Datasource> read_deployment_toml(const std::string& path, const std::string& home);

}  // namespace obkeep::deploy
