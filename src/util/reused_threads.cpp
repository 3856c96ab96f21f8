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

void ReusedThreads::start(std::function<void()> job) {
  std::unique_lock lock(mutex_);
  jobs_.push_back(std::move(job));
  if (idle_ >= jobs_.size()) {
    lock.unlock();
    wake_.notify_one();
  } else {
    threads_.emplace_back([this] { serve(); });
  }
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
    std::function<void()> job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    job();  // a packaged task: what it throws goes to its future
    lock.lock();
  }
}

}  // namespace obkeep
