// A few threads sharing a list of tasks; the first failure stops the rest.
#include "util/parallel_tasks.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace obkeep {

void run_parallel(size_t count, unsigned threads, const std::function<void(size_t)>& task) {
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mutex;
  std::exception_ptr first_failure;
  auto work = [&] {
    for (size_t i; !failed && (i = next++) < count;) {
      try {
        task(i);
      } catch (...) {
        std::lock_guard lock(mutex);
        if (!first_failure) first_failure = std::current_exception();
        failed = true;
      }
    }
  };
  size_t helpers = std::min<size_t>(count, std::max(threads, 1u)) - (count > 0 ? 1 : 0);
  std::vector<std::jthread> pool;  // joined on every way out, also when starting a thread throws
  try {
    for (size_t i = 0; i < helpers; ++i) pool.emplace_back(work);
  } catch (...) {
    failed = true;  // no thread: the tasks that did start finish, then this call fails
    pool.clear();
    throw;
  }
  work();
  pool.clear();
  if (first_failure) std::rethrow_exception(first_failure);
}

}  // namespace obkeep
