// The restore's workers and their two kinds of work. A large file keeps the disk busy and
// the CPU idle; a batch of small files is the reverse (decrypting, creating inodes, setting
// metadata). Restored in walk order, a deployment alternates between long stretches of one
// and of the other and leaves either the disk or the CPUs idle; here the workers mix them:
// at most `large_limit` workers take large files while small work waits, the others take
// small batches, and whoever finds one queue empty takes from the other. Large files go
// biggest first, so the last file to finish is a short one.
#pragma once

#include <condition_variable>
#include <utility>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

namespace obkeep::archiver {

class RestoreQueue {
 public:
  using Job = std::function<void()>;

  // `small_limit` bounds the queued small batches (push_small blocks beyond it), which bounds
  // the memory of the walk; large files are queued without bound to be ordered by size.
  RestoreQueue(unsigned workers, unsigned large_limit, size_t small_limit);
  ~RestoreQueue();
  RestoreQueue(const RestoreQueue&) = delete;
  RestoreQueue& operator=(const RestoreQueue&) = delete;

  void push_large(uint64_t size, Job job);
  void push_small(Job job);
  // Waits until every job has run, then rethrows the first exception a job threw (the
  // jobs after it still run: each is a file, and a failure of one is reported by it).
  void wait();
  // Discards the jobs not yet started and waits for the running ones.
  void cancel();

 private:
  struct LargeJob {
    uint64_t size;
    uint64_t order;  // ties go in walk order
    Job job;
    bool operator<(const LargeJob& other) const {
      return size != other.size ? size < other.size : order > other.order;
    }
  };
  void work();
  bool take(Job& job, bool& large);

  std::mutex mutex_;
  std::condition_variable work_ready_, small_room_, all_done_;
  std::priority_queue<LargeJob> large_;
  std::queue<Job> small_;
  uint64_t large_pushed_ = 0;
  unsigned large_limit_, large_running_ = 0, running_ = 0;
  size_t small_limit_;
  bool stopping_ = false;
  std::exception_ptr first_error_;
  std::vector<std::thread> threads_;
};

}  // namespace obkeep::archiver
