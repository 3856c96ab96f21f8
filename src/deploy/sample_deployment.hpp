// A small, faithful WSO2 Open Banking 1.5 deployment (KM + APIM homes) for the demo and tests.
#pragma once

#include <string>

namespace obkeep::deploy {

// Writes <root>/wso2-obkm-1.5.0 and <root>/wso2-obam-1.5.0 (about 12 MB, deterministic):
// bin scripts, repository/conf with carbon.xml and the datasource files of a default
// install (every database on H2), H2 PageStore files, OSGi bundles (half shared between
// the nodes), webapps, synapse configs, jaggery apps, tenants, keystores and logs.
void write_sample_deployment(const std::string& root);

}  // namespace obkeep::deploy
