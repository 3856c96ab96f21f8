#include "archiver/restore_queue.hpp"

namespace obkeep::archiver {

RestoreQueue::RestoreQueue(unsigned workers, unsigned large_limit, size_t small_limit)
    : large_limit_(large_limit == 0 ? 1 : large_limit), small_limit_(small_limit == 0 ? 1 : small_limit) {
  if (workers == 0) workers = 1;
  for (unsigned i = 0; i < workers; ++i) threads_.emplace_back([this] { work(); });
}

RestoreQueue::~RestoreQueue() {
  cancel();
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  work_ready_.notify_all();
  for (auto& thread : threads_) thread.join();
}

void RestoreQueue::push_large(uint64_t size, Job job) {
  {
    std::lock_guard lock(mutex_);
    large_.push({size, large_pushed_++, std::move(job)});
  }
  work_ready_.notify_one();
}

void RestoreQueue::push_small(Job job) {
  {
    std::unique_lock lock(mutex_);
    small_room_.wait(lock, [this] { return small_.size() < small_limit_; });
    small_.push(std::move(job));
  }
  work_ready_.notify_one();
}

// Called with the mutex held. A large file is taken first while fewer than `large_limit_`
// workers have one, so the disk always has work; otherwise a small batch; otherwise
// whatever is left.
bool RestoreQueue::take(Job& job, bool& large) {
  bool take_large = !large_.empty() && (large_running_ < large_limit_ || small_.empty());
  if (take_large) {
    job = std::move(const_cast<LargeJob&>(large_.top()).job);  // moved out just before pop
    large_.pop();
    large = true;
    return true;
  }
  if (small_.empty()) return false;
  job = std::move(small_.front());
  small_.pop();
  large = false;
  small_room_.notify_one();
  return true;
}

void RestoreQueue::work() {
  std::unique_lock lock(mutex_);
  for (;;) {
    Job job;
    bool large = false;
    work_ready_.wait(lock, [&] { return stopping_ || take(job, large); });
    if (!job) return;
    ++running_;
    if (large) ++large_running_;
    lock.unlock();
    std::exception_ptr error;
    try {
      job();
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    if (error && !first_error_) first_error_ = error;
    --running_;
    if (large) --large_running_;
    // A worker leaving large work may let another take a large file.
    work_ready_.notify_all();
    all_done_.notify_all();
  }
}

void RestoreQueue::wait() {
  std::unique_lock lock(mutex_);
  all_done_.wait(lock, [this] { return large_.empty() && small_.empty() && running_ == 0; });
  if (first_error_) std::rethrow_exception(std::exchange(first_error_, nullptr));
}

void RestoreQueue::cancel() {
  std::unique_lock lock(mutex_);
  while (!large_.empty()) large_.pop();
  small_ = {};
  small_room_.notify_all();
  all_done_.wait(lock, [this] { return running_ == 0; });
}

}  // namespace obkeep::archiver
