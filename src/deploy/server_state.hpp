// Is a WSO2 server running from a home? (a live pid in wso2carbon.pid, or H2 lock files)
#pragma once

#include <string>

namespace obkeep::deploy {

// Empty when the server looks stopped; else why it looks running.
std::string server_running_reason(const std::string& home);

}  // namespace obkeep::deploy
