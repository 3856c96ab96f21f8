// A token bucket shared by many threads: the pace of one direction of a rate-limited backend.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>

namespace obkeep::storage {

// Bytes flow at `bytes_per_second` on average, with at most `burst_bytes` let through at once
// after an idle spell. A take that is larger than what the bucket holds is allowed and puts it
// in debt; the taker waits until the debt is paid. Takers that come while it is in debt queue
// behind it, so the total rate of all threads holds, not only each one's.
class TokenBucket {
 public:
  // Seconds on a monotonic clock, and a sleep of that many seconds; tests pass fakes.
  using Clock = std::function<double()>;
  using Sleep = std::function<void(double seconds)>;

  TokenBucket(uint64_t bytes_per_second, uint64_t burst_bytes, Clock clock = steady_clock(),
              Sleep sleep = interruptible_sleep);

  // Takes `bytes`, then sleeps until the bucket is out of debt (when they are paid for). Throws
  // Error(interrupted) when SIGINT/SIGTERM arrives while it sleeps.
  void take(uint64_t bytes);
  // Takes `bytes` and returns how long the taker must wait, without waiting.
  double reserve(uint64_t bytes);

  uint64_t bytes_per_second() const { return rate_; }

  static Clock steady_clock();
  // Sleeps in slices of at most 50 ms, checking for SIGINT/SIGTERM between them.
  static void interruptible_sleep(double seconds);

 private:
  const uint64_t rate_;
  const double burst_;
  Clock clock_;
  Sleep sleep_;
  std::mutex mutex_;
  double tokens_;   // bytes that may go now; negative: the debt that queued takers wait out
  double updated_;  // clock time of the last refill
};

}  // namespace obkeep::storage
