#include "util/child_process.hpp"

#include <signal.h>
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

void stop_child(pid_t pid, std::initializer_list<StopStep> steps) {
  for (const StopStep& step : steps) {
    ::kill(pid, step.signal);
    if (wait_for_child(pid, step.wait)) return;
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}

}  // namespace obkeep
