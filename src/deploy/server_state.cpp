// Server liveness from the pid file Carbon writes and the lock files H2 keeps while open.
#include "deploy/server_state.hpp"

#include <filesystem>
#include <fstream>

#include "util/host.hpp"

namespace obkeep::deploy {

namespace fs = std::filesystem;

std::string server_running_reason(const std::string& home) {
  std::ifstream pid_file(fs::path(home) / "wso2carbon.pid");
  int pid = 0;
  if (pid_file >> pid && process_alive(pid))
    return "process " + std::to_string(pid) + " from " + home + "/wso2carbon.pid is running";
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(fs::path(home) / "repository" / "database", error)) {
    std::string name = entry.path().filename().string();
    if (name.size() > 8 && name.compare(name.size() - 8, 8, ".lock.db") == 0)
      return "H2 lock file " + entry.path().string() + " exists (a database is open)";
  }
  return "";
}

}  // namespace obkeep::deploy
