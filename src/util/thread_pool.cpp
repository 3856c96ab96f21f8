// The worker pool behind the backup and restore pipelines.
#include "util/thread_pool.hpp"

namespace obkeep {

ThreadPool::ThreadPool(unsigned workers, size_t queue_limit) : queue_limit_(queue_limit) {
  if (workers == 0) workers = 1;
  for (unsigned i = 0; i < workers; ++i) threads_.emplace_back([this] { work(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  not_empty_.notify_all();
  not_full_.notify_all();
  for (auto& thread : threads_) thread.join();
}

unsigned ThreadPool::default_workers() {
  unsigned cores = std::thread::hardware_concurrency();
  return cores == 0 ? 2 : cores;
}

void ThreadPool::cancel() {
  std::deque<std::function<void()>> dropped;
  {
    std::lock_guard lock(mutex_);
    cancelled_ = true;
    dropped.swap(queue_);
  }
  not_full_.notify_all();
}  // the dropped jobs are destroyed here, outside the lock

void ThreadPool::enqueue(std::function<void()> job) {
  std::unique_lock lock(mutex_);
  not_full_.wait(lock, [this] { return queue_.size() < queue_limit_ || stopping_ || cancelled_; });
  if (cancelled_) return;  // `job` is destroyed, and its future reports a broken promise
  queue_.push_back(std::move(job));
  lock.unlock();
  not_empty_.notify_one();
}

void ThreadPool::work() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mutex_);
      not_empty_.wait(lock, [this] { return !queue_.empty() || stopping_; });
      if (queue_.empty()) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    not_full_.notify_one();
    job();  // packaged_task stores any exception in its future
  }
}

}  // namespace obkeep
