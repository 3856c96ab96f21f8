// Waiting for a child process obkeep started itself (a scratch database server).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <initializer_list>

namespace obkeep {

// Whether `pid` has ended (and is reaped).
bool child_ended(pid_t pid);
// Waits up to `limit` for `pid` to end; false if it still runs.
bool wait_for_child(pid_t pid, std::chrono::milliseconds limit);

struct StopStep {
  int signal;
  std::chrono::milliseconds wait;
};
// Sends each step's signal and waits its time for `pid` to end; SIGKILL (and a reap) if it
// outlives them all.
void stop_child(pid_t pid, std::initializer_list<StopStep> steps);

}  // namespace obkeep
