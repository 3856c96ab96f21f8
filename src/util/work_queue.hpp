// Work handed from one producer, which finds it while the consumers already run, to a few
// consumers; the first failure on either side stops everyone.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>

#include "util/interrupt.hpp"

namespace obkeep {

template <typename Item>
class WorkQueue {
 public:
  void push(Item item) {
    std::lock_guard lock(mutex_);
    if (aborted_) return;
    items_.push_back(std::move(item));
    ready_.notify_one();
  }
  // No more items: consumers drain the queue and end.
  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    ready_.notify_all();
  }
  // A failure: consumers end without taking the items left.
  void abort() {
    std::lock_guard lock(mutex_);
    aborted_ = closed_ = true;
    items_.clear();
    ready_.notify_all();
  }
  bool aborted() const {
    std::lock_guard lock(mutex_);
    return aborted_;
  }
  // The next item; nothing once the queue is closed and empty, or aborted. Throws when a
  // signal arrives, so a consumer waiting on a slow producer still stops.
  std::optional<Item> pop() {
    std::unique_lock lock(mutex_);
    while (items_.empty() && !closed_) {
      ready_.wait_for(lock, std::chrono::milliseconds(100));
      if (interrupted()) {
        lock.unlock();
        throw_if_interrupted();
      }
    }
    if (items_.empty()) return std::nullopt;
    Item item = std::move(items_.front());
    items_.pop_front();
    return item;
  }

  // Aborts the queue when it goes out of scope. Declared after the consumers' threads, it
  // ends their waits before those are joined on an exception's way out; on the normal way
  // out, join them first (an abort drops the items not yet taken).
  class AbortGuard {
   public:
    explicit AbortGuard(WorkQueue& queue) : queue_(queue) {}
    ~AbortGuard() { queue_.abort(); }
    AbortGuard(const AbortGuard&) = delete;
    AbortGuard& operator=(const AbortGuard&) = delete;

   private:
    WorkQueue& queue_;
  };

 private:
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Item> items_;
  bool closed_ = false, aborted_ = false;
};

}  // namespace obkeep
