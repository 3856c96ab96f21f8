// RestoreQueue: every job runs once, large files go biggest first, errors reach wait(),
// and cancel() drops what has not started.
#include "archiver/restore_queue.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <stdexcept>

namespace obkeep::archiver {

TEST(RestoreQueue, RunsEveryJobOnce) {
  std::atomic<int> small{0}, large{0};
  RestoreQueue queue(4, 2, 3);  // a small queue limit: push_small blocks and resumes
  for (int i = 0; i < 200; ++i) {
    queue.push_small([&] { small++; });
    if (i % 10 == 0) queue.push_large(uint64_t(i) << 20, [&] { large++; });
  }
  queue.wait();
  EXPECT_EQ(small.load(), 200);
  EXPECT_EQ(large.load(), 20);
}

TEST(RestoreQueue, LargeFilesGoBiggestFirst) {
  std::mutex mutex;
  std::vector<uint64_t> order;
  {
    RestoreQueue queue(1, 1, 8);
    std::promise<void> release, holding;
    std::shared_future<void> released = release.get_future().share();
    queue.push_large(1, [released, &holding] {  // holds the only worker
      holding.set_value();
      released.wait();
    });
    holding.get_future().wait();  // else the worker could take a later, bigger job first
    for (uint64_t size : {5, 50, 20, 50, 1})
      queue.push_large(size, [&, size] {
        std::lock_guard lock(mutex);
        order.push_back(size);
      });
    release.set_value();
    queue.wait();
  }
  EXPECT_EQ(order, (std::vector<uint64_t>{50, 50, 20, 5, 1}));
}

TEST(RestoreQueue, WaitRethrowsTheFirstErrorAfterTheRest) {
  std::atomic<int> ran{0};
  RestoreQueue queue(2, 1, 4);
  queue.push_small([] { throw std::runtime_error("boom"); });
  for (int i = 0; i < 10; ++i) queue.push_small([&] { ran++; });
  EXPECT_THROW(queue.wait(), std::runtime_error);
  EXPECT_EQ(ran.load(), 10);
  queue.push_small([&] { ran++; });  // usable again after an error
  queue.wait();
  EXPECT_EQ(ran.load(), 11);
}

TEST(RestoreQueue, CancelDropsQueuedJobs) {
  std::atomic<int> ran{0};
  RestoreQueue queue(1, 1, 100);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> started;
  queue.push_small([&, released] {
    started.set_value();
    released.wait();
    ran++;
  });
  for (int i = 0; i < 50; ++i) queue.push_small([&] { ran++; });
  started.get_future().wait();
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let cancel() drop the queue first
    release.set_value();
  });
  queue.cancel();  // drops the queued jobs, waits for the running one
  releaser.join();
  int after_cancel = ran.load();
  EXPECT_GE(after_cancel, 1);
  EXPECT_LT(after_cancel, 51);  // 1 unless this machine stalled the test for 50 ms
  queue.wait();
  EXPECT_EQ(ran.load(), after_cancel);
}

}  // namespace obkeep::archiver
