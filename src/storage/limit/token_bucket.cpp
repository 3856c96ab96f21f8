// The token bucket: refill by elapsed time, take, wait out the debt.
#include "storage/limit/token_bucket.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

#include "util/interrupt.hpp"

namespace obkeep::storage {

TokenBucket::TokenBucket(uint64_t bytes_per_second, uint64_t burst_bytes, Clock clock, Sleep sleep)
    : rate_(std::max<uint64_t>(bytes_per_second, 1)),
      burst_(static_cast<double>(std::max<uint64_t>(burst_bytes, 1))),
      clock_(std::move(clock)),
      sleep_(std::move(sleep)),
      tokens_(burst_),
      updated_(clock_()) {}

double TokenBucket::reserve(uint64_t bytes) {
  std::lock_guard lock(mutex_);
  double now = clock_();
  // Unused allowance is kept only up to the burst: an idle minute does not buy a minute at
  // unlimited speed.
  tokens_ = std::min(burst_, tokens_ + (now - updated_) * static_cast<double>(rate_));
  updated_ = now;
  tokens_ -= static_cast<double>(bytes);
  return tokens_ < 0 ? -tokens_ / static_cast<double>(rate_) : 0.0;
}

void TokenBucket::take(uint64_t bytes) {
  double wait = reserve(bytes);
  if (wait > 0) sleep_(wait);
}

TokenBucket::Clock TokenBucket::steady_clock() {
  return [] { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); };
}

void TokenBucket::interruptible_sleep(double seconds) {
  using namespace std::chrono;
  auto until = steady_clock::now() + duration_cast<steady_clock::duration>(duration<double>(seconds));
  for (;;) {
    throw_if_interrupted();
    auto now = steady_clock::now();
    if (now >= until) return;
    std::this_thread::sleep_for(std::min<steady_clock::duration>(until - now, milliseconds(50)));
  }
}

}  // namespace obkeep::storage
