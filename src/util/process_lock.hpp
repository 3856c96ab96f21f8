// A lock one process holds for its life: flock(2) on a file, taken without waiting and
// released by the kernel when the holder exits or dies, so a crash never leaves it held.
// For "at most one background worker per folder" (the WAL spools' drainer and prefetcher).
#pragma once

#include <string>

namespace obkeep {

class ProcessLock {
 public:
  // Creates `path` when missing; held() says whether the lock was free and is now ours.
  explicit ProcessLock(const std::string& path);
  ~ProcessLock();
  ProcessLock(const ProcessLock&) = delete;
  ProcessLock& operator=(const ProcessLock&) = delete;
  bool held() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

}  // namespace obkeep
