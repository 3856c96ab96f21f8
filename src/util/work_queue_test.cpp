#include "util/work_queue.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace obkeep {
namespace {

TEST(WorkQueue, ConsumersDrainWhatIsPushedUntilClosed) {
  WorkQueue<int> queue;
  int sum = 0;
  std::thread consumer([&] {
    while (auto item = queue.pop()) sum += *item;
  });
  for (int i = 1; i <= 100; ++i) queue.push(i);
  queue.close();
  consumer.join();
  EXPECT_EQ(sum, 5050);
}

TEST(WorkQueue, AnAbortEndsWaitingConsumersAndDropsTheRest) {
  WorkQueue<int> queue;
  queue.push(1);
  {
    std::jthread consumer([&] {
      while (queue.pop()) {
      }
    });
    WorkQueue<int>::AbortGuard guard(queue);  // ends the consumer's wait before it is joined
  }
  queue.push(2);
  EXPECT_TRUE(queue.aborted());
  EXPECT_FALSE(queue.pop());
}

}  // namespace
}  // namespace obkeep
