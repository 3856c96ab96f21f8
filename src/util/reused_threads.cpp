// Threads kept for the next job (see reused_threads.hpp).
#include "util/reused_threads.hpp"

namespace obkeep {

ReusedThreads::~ReusedThreads() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& thread : threads_) thread.join();
}

std::future<void> ReusedThreads::run(std::function<void()> job) {
  std::packaged_task<void()> task(std::move(job));
  std::future<void> done = task.get_future();
  std::unique_lock lock(mutex_);
  jobs_.push_back(std::move(task));
  if (idle_ >= jobs_.size()) {
    lock.unlock();
    wake_.notify_one();
  } else {
    threads_.emplace_back([this] { serve(); });
  }
  return done;
}

void ReusedThreads::serve() {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (jobs_.empty()) {
      ++idle_;
      wake_.wait(lock, [this] { return !jobs_.empty() || stopping_; });
      --idle_;
      if (jobs_.empty()) return;
    }
    std::packaged_task<void()> task = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    task();  // the task keeps what the job throws for its future
    lock.lock();
  }
}

}  // namespace obkeep
