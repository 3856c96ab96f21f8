// Waiting for a child process obkeep started itself (a scratch database server).
#pragma once

#include <sys/types.h>

#include <chrono>

namespace obkeep {

// Whether `pid` has ended (and is reaped).
bool child_ended(pid_t pid);
// Waits up to `limit` for `pid` to end; false if it still runs.
bool wait_for_child(pid_t pid, std::chrono::milliseconds limit);

}  // namespace obkeep
