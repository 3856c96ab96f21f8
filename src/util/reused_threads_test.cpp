#include "util/reused_threads.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <latch>
#include <set>
#include <stdexcept>
#include <thread>

namespace obkeep {

TEST(ReusedThreads, AJobAfterAnotherRunsOnTheSameThread) {
  ReusedThreads threads;
  std::thread::id first, second;
  threads.run([&] { first = std::this_thread::get_id(); }).get();
  // The future is ready a moment before the thread is idle again.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  threads.run([&] { second = std::this_thread::get_id(); }).get();
  EXPECT_EQ(first, second);
  EXPECT_NE(first, std::this_thread::get_id());
}

TEST(ReusedThreads, JobsThatWaitOnEachOtherEachGetAThread) {
  // Four jobs that can only finish together: a pool that queued one of them would hang.
  ReusedThreads threads;
  std::latch all_running(4);
  std::mutex mutex;
  std::set<std::thread::id> ids;
  std::vector<std::future<void>> done;
  for (int i = 0; i < 4; ++i)
    done.push_back(threads.run([&] {
      {
        std::lock_guard lock(mutex);
        ids.insert(std::this_thread::get_id());
      }
      all_running.arrive_and_wait();
    }));
  for (auto& job : done) job.get();
  EXPECT_EQ(ids.size(), 4u);
}

TEST(ReusedThreads, TheFutureHoldsWhatTheJobReturnedOrThrew) {
  ReusedThreads threads;
  EXPECT_EQ(threads.run([] { return 42; }).get(), 42);
  auto failed = threads.run([] { throw std::runtime_error("job failed"); });
  EXPECT_THROW(failed.get(), std::runtime_error);
  std::atomic<bool> ran{false};
  threads.run([&] { ran = true; }).get();  // the thread serves on after a failure
  EXPECT_TRUE(ran);
}

TEST(ReusedThreads, DestructionWaitsForTheJobsGiven) {
  std::atomic<int> finished{0};
  {
    ReusedThreads threads;
    for (int i = 0; i < 8; ++i)
      threads.run([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        ++finished;
      });
  }
  EXPECT_EQ(finished, 8);
}

}  // namespace obkeep
