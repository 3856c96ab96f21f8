// A fixed pool of worker threads with a bounded queue: submit() blocks when it is full,
// which is what bounds the memory of a pipeline.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

namespace obkeep {

class ThreadPool {
 public:
  ThreadPool(unsigned workers, size_t queue_limit);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  template <typename Function>
  auto submit(Function function) -> std::future<decltype(function())> {
    using Result = decltype(function());
    auto task = std::make_shared<std::packaged_task<Result()>>(std::move(function));
    std::future<Result> future = task->get_future();
    enqueue([task] { (*task)(); });
    return future;
  }

  // Drops the jobs not yet started and any submitted later (their futures report a broken
  // promise); running jobs finish. For a pipeline that has failed and is being torn down.
  void cancel();

  static unsigned default_workers();

 private:
  void enqueue(std::function<void()> job);
  void work();

  std::mutex mutex_;
  std::condition_variable not_empty_, not_full_;
  std::deque<std::function<void()>> queue_;
  size_t queue_limit_;
  bool stopping_ = false;
  bool cancelled_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace obkeep
