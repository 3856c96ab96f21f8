// Threads kept for the next job: each job runs on a thread that has finished an earlier
// one, or on a new thread when all are busy.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

namespace obkeep {

// Never queues a job behind another, so jobs that wait on each other cannot deadlock (as a
// thread pool of fixed size could); and a thread's warmed-up state (thread_local buffers and
// compression contexts, their pages already faulted in) serves the next job instead of
// being built again. The threads end with the object, after their jobs.
class ReusedThreads {
 public:
  ReusedThreads() = default;
  ~ReusedThreads();
  ReusedThreads(const ReusedThreads&) = delete;
  ReusedThreads& operator=(const ReusedThreads&) = delete;

  // The future holds what the job returned, or what it threw.
  template <typename Function>
  auto run(Function function) -> std::future<decltype(function())> {
    using Result = decltype(function());
    auto task = std::make_shared<std::packaged_task<Result()>>(std::move(function));
    std::future<Result> future = task->get_future();
    start([task] { (*task)(); });
    return future;
  }

 private:
  void start(std::function<void()> job);
  void serve();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;  // for the idle threads
  size_t idle_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace obkeep
