// Discovery: every datasource of every home, and each database once.
#pragma once

#include <string>
#include <vector>

#include "deploy/config.hpp"
#include "deploy/deployment.hpp"

namespace obkeep::deploy {

// Reads repository/conf/datasources/*.xml and repository/conf/deployment.toml of each home.
// `config` supplies credential overrides (may be null). Throws Error for a missing home or
// a malformed file (with its line).
Discovery discover(const std::vector<std::string>& homes, const Config* config);

// The database a command-line name refers to: a datasource name (WSO2AM_DB) or the
// database as discover lists it. Throws Error when none or several match.
const Database& find_database(const Discovery& discovery, const std::string& name);

}  // namespace obkeep::deploy
