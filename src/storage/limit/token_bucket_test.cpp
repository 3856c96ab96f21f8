// The token bucket: waits on a fake clock, the burst cap, queueing in debt, and the total rate
// of many threads on the real clock.
#include "storage/limit/token_bucket.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

namespace obkeep::storage {

namespace {

// A clock that only moves when the bucket sleeps (or the test says so).
struct FakeTime {
  double now = 100.0;
  double slept = 0;
  TokenBucket bucket(uint64_t rate, uint64_t burst) {
    return TokenBucket(
        rate, burst, [this] { return now; },
        [this](double seconds) {
          now += seconds;
          slept += seconds;
        });
  }
};

}  // namespace

TEST(TokenBucket, LetsTheBurstGoAtOnceThenMakesTakersWaitForTheirBytes) {
  FakeTime time;
  TokenBucket bucket = time.bucket(1000, 100);
  EXPECT_DOUBLE_EQ(bucket.reserve(100), 0.0);
  EXPECT_DOUBLE_EQ(bucket.reserve(500), 0.5);
  // A second taker while the bucket is in debt queues behind the first.
  EXPECT_DOUBLE_EQ(bucket.reserve(500), 1.0);
  time.now += 1.0;
  EXPECT_DOUBLE_EQ(bucket.reserve(0), 0.0);
  time.now += 10.0;  // idle: refills to the burst, not to ten seconds' worth
  EXPECT_DOUBLE_EQ(bucket.reserve(100), 0.0);
  EXPECT_DOUBLE_EQ(bucket.reserve(1), 0.001);
}

TEST(TokenBucket, HoldsTheAverageRateOverManyUnevenTakes) {
  FakeTime time;
  TokenBucket bucket = time.bucket(4096 * 1024, 1024 * 1024);
  double start = time.now;
  uint64_t total = 0;
  for (uint64_t i = 0; i < 500; ++i) {
    uint64_t bytes = 1000 + (i * 7919) % 300000;  // small and large pieces, in no order
    bucket.take(bytes);
    total += bytes;
  }
  double expected = static_cast<double>(total - 1024 * 1024) / (4096 * 1024);
  EXPECT_NEAR(time.now - start, expected, 1e-6);
  EXPECT_NEAR(time.slept, expected, 1e-6);
}

TEST(TokenBucket, TheTotalOfManyThreadsHoldsTheRate) {
  constexpr uint64_t rate = 2 * 1024 * 1024, burst = 64 * 1024, piece = 32 * 1024;
  TokenBucket bucket(rate, burst);
  constexpr int threads = 6;
  constexpr uint64_t per_thread = rate * 3 / 2 / threads;  // 1.5 s of bytes in all
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&] {
      for (uint64_t done = 0; done < per_thread; done += piece) bucket.take(piece);
    });
  for (auto& worker : workers) worker.join();
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  double expected = static_cast<double>(per_thread * threads - burst) / rate;
  EXPECT_GE(elapsed, expected * 0.98);
  EXPECT_LE(elapsed, expected * 1.1);
}

}  // namespace obkeep::storage
