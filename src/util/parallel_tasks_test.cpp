#include "util/parallel_tasks.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

namespace obkeep {

TEST(ParallelTasks, RunsEveryTaskOnceOnAtMostTheThreadsGiven) {
  std::vector<std::atomic<int>> runs(50);
  std::atomic<int> running{0}, most{0};
  run_parallel(runs.size(), 4, [&](size_t i) {
    int now = ++running;
    for (int seen = most; now > seen && !most.compare_exchange_weak(seen, now);) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    runs[i]++;
    --running;
  });
  for (auto& count : runs) EXPECT_EQ(count, 1);
  EXPECT_LE(most, 4);
  EXPECT_GE(most, 2);  // really parallel
  run_parallel(0, 4, [](size_t) { FAIL() << "no task to run"; });
}

TEST(ParallelTasks, TheFirstFailureStopsNewTasksAndIsRethrown) {
  std::atomic<int> started{0};
  try {
    run_parallel(1000, 3, [&](size_t i) {
      ++started;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      if (i == 5) throw std::runtime_error("task 5 failed");
    });
    ADD_FAILURE() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "task 5 failed");
  }
  EXPECT_LT(started, 20);
}

}  // namespace obkeep
