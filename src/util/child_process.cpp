#include "util/child_process.hpp"

#include <sys/wait.h>

#include <thread>

namespace obkeep {

bool child_ended(pid_t pid) {
  int status;
  return ::waitpid(pid, &status, WNOHANG) == pid;
}

bool wait_for_child(pid_t pid, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (child_ended(pid)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

}  // namespace obkeep
