// Runs a list of tasks (the parts of an upload, the ranges of a read, objects to load) on a
// few threads.
#pragma once

#include <cstddef>
#include <functional>

namespace obkeep {

// Calls task(0) … task(count - 1) on at most `threads` threads, the caller's among them,
// and returns when all have ended. Once a task throws, no further task starts and the
// first exception is rethrown here; tasks already running finish first (S3 requests end
// in bounded time), so nothing outlives the call.
void run_parallel(size_t count, unsigned threads, const std::function<void(size_t)>& task);

}  // namespace obkeep
