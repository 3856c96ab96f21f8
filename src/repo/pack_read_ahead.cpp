// Ranges of packs fetched ahead of a restore's writers.
#include "repo/pack_read_ahead.hpp"

#include <algorithm>

#include "util/error.hpp"
#include "util/interrupt.hpp"

namespace obkeep::repo {

namespace {
constexpr auto slice = std::chrono::milliseconds(100);
}

PackReadAhead::PackReadAhead(Repository& repository, unsigned fetchers, uint64_t memory_budget,
                             const std::atomic<bool>& abandoned, std::function<void()> before_waiting)
    : repository_(repository), max_gap_(repository.backend().read_gap()), budget_(memory_budget), abandoned_(abandoned), before_waiting_(std::move(before_waiting)) {
  for (unsigned i = 0; i < fetchers; ++i) fetchers_.emplace_back([this] { fetch(); });
}

PackReadAhead::~PackReadAhead() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  for (std::thread& fetcher : fetchers_) fetcher.join();
}

PackReadAhead::RangePointer PackReadAhead::covering(const BlobLocation& location) {
  auto pack = ranges_.find(location.pack);
  if (pack == ranges_.end()) return nullptr;
  auto after = pack->second.upper_bound(location.offset);
  if (after == pack->second.begin()) return nullptr;
  const RangePointer& range = std::prev(after)->second;
  if (uint64_t(location.offset) + location.stored_length > range->offset + range->length) return nullptr;
  return range;
}

void PackReadAhead::queue(const RangePointer& range) {
  range->state = Range::State::queued;
  queue_.push_back(range);
  growing_.erase(std::find(growing_.begin(), growing_.end(), range));
  changed_.notify_all();
}

void PackReadAhead::queue_stale() {
  for (size_t i = 0; i < growing_.size();)
    if (announced_ - growing_[i]->last_grown > stale_after)
      queue(growing_[i]);
    else
      ++i;
}

bool PackReadAhead::grow(const Id& pack, uint64_t start, uint64_t end) {
  auto by_pack = ranges_.find(pack);
  if (by_pack == ranges_.end()) return false;
  auto& by_offset = by_pack->second;
  // The blob is in no range, and ranges hold whole blobs: the one below ends at or before
  // it, the one above starts at or after its end.
  auto above = by_offset.upper_bound(start);
  RangePointer low = above != by_offset.begin() ? std::prev(above)->second : nullptr;
  RangePointer high = above != by_offset.end() ? above->second : nullptr;
  auto is_growing = [](const RangePointer& range) { return range && range->state == Range::State::growing; };
  uint64_t low_end = low ? low->offset + low->length : 0, high_end = high ? high->offset + high->length : 0;
  bool low_fits = is_growing(low) && low_end <= start && start - low_end <= max_gap_ && end - low->offset <= max_range;
  bool high_fits = is_growing(high) && high->offset >= end && high->offset - end <= max_gap_ && high_end - start <= max_range;
  if (low_fits && high_fits && high_end - low->offset <= max_range) {
    // The blob closes the gap between two growing ranges: they become one.
    held_ += (high_end - low->offset) - low->length - high->length;
    low->length = high_end - low->offset;
    low->uses += high->uses + 1;
    low->last_grown = announced_;
    by_offset.erase(above);
    growing_.erase(std::find(growing_.begin(), growing_.end(), high));
    return true;
  }
  if (low_fits) {
    held_ += end - low_end;
    low->length = end - low->offset;
    ++low->uses;
    low->last_grown = announced_;
    return true;
  }
  if (high_fits) {
    held_ += high->offset - start;
    by_offset.erase(above);
    high->offset = start;
    high->length = high_end - start;
    by_offset[start] = high;
    ++high->uses;
    high->last_grown = announced_;
    return true;
  }
  return false;
}

void PackReadAhead::release(const RangePointer& range) {
  if (range->uses > 0) --range->uses;
  if (range->uses > 0 || range->state == Range::State::growing || range->state == Range::State::queued ||
      range->state == Range::State::fetching)
    return;
  auto pack = ranges_.find(range->pack);
  if (pack != ranges_.end()) {
    auto it = pack->second.find(range->offset);
    if (it != pack->second.end() && it->second == range) {
      pack->second.erase(it);
      if (pack->second.empty()) ranges_.erase(pack);
      held_ -= range->length;
    }
  }
  if (range->data.capacity() > 0 && spare_bytes_ + range->data.capacity() <= spare_limit) {
    spare_bytes_ += range->data.capacity();
    spare_buffers_.push_back(std::move(range->data));
  }
  range->data = LargeBuffer();
  changed_.notify_all();
}

void PackReadAhead::announce(const BlobLocation& location, bool beyond_budget) {
  std::unique_lock lock(mutex_);
  announced_ += location.stored_length;
  if (RangePointer range = covering(location)) {
    ++range->uses;
    return;
  }
  uint64_t start = location.offset, end = start + location.stored_length;
  if (grow(location.pack, start, end)) return queue_stale();
  if (growing_.size() >= max_growing)
    queue(*std::min_element(growing_.begin(), growing_.end(),
                            [](const RangePointer& a, const RangePointer& b) { return a->last_grown < b->last_grown; }));
  // Within the budget, unless nothing is held (a single blob larger than the budget).
  auto over_budget = [&] { return !beyond_budget && held_ > 0 && held_ + location.stored_length > budget_ && !abandoned_; };
  if (over_budget()) {
    // The writers need what is growing before the walk can go on.
    while (!growing_.empty()) queue(growing_.front());
    if (before_waiting_) {
      lock.unlock();
      before_waiting_();
      lock.lock();
    }
    while (over_budget()) {
      changed_.wait_for(lock, slice);
      if (interrupted()) throw Error("interrupted", ExitCode::interrupted);
    }
    // A writer reading ahead in its own file may have fetched this blob meanwhile.
    if (RangePointer range = covering(location)) {
      ++range->uses;
      return;
    }
  }
  auto range = std::make_shared<Range>();
  range->pack = location.pack;
  range->offset = start;
  range->length = end - start;
  range->uses = 1;
  range->last_grown = announced_;
  ranges_[location.pack][start] = range;
  growing_.push_back(range);
  held_ += range->length;
  queue_stale();
}

void PackReadAhead::announce_soon(const std::vector<BlobLocation>& locations) {
  for (const BlobLocation& location : locations) announce(location, true);
  std::lock_guard lock(mutex_);
  for (const BlobLocation& location : locations)
    if (RangePointer range = covering(location); range && range->state == Range::State::growing) queue(range);
}

void PackReadAhead::load_into(const Id& id, const BlobLocation& location, std::span<uint8_t> out) {
  RangePointer range;
  {
    std::unique_lock lock(mutex_);
    range = covering(location);
    if (range) {
      if (range->state == Range::State::growing) queue(range);  // wanted now: no more growing
      while (range->state != Range::State::ready && range->state != Range::State::failed) {
        changed_.wait_for(lock, slice);
        if (interrupted()) throw Error("interrupted", ExitCode::interrupted);
      }
      if (range->state == Range::State::failed) {
        release(range);
        range.reset();
      }
    }
    if (!range) statistics_.direct_reads++;
  }
  if (!range) return repository_.load_blob_into(id, location, out);
  // The range stays alive (and its data unchanged) while this reference holds it.
  ByteView sealed(range->data.data() + (location.offset - range->offset), location.stored_length);
  try {
    repository_.open_blob_into(id, location, sealed, out);
  } catch (...) {
    std::lock_guard lock(mutex_);
    release(range);
    throw;
  }
  std::lock_guard lock(mutex_);
  release(range);
}

void PackReadAhead::discard(const BlobLocation& location) {
  std::lock_guard lock(mutex_);
  if (RangePointer range = covering(location)) release(range);
}

void PackReadAhead::flush() {
  std::lock_guard lock(mutex_);
  while (!growing_.empty()) queue(growing_.front());
}

PackReadAhead::Statistics PackReadAhead::statistics() {
  std::lock_guard lock(mutex_);
  return statistics_;
}

void PackReadAhead::fetch() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    RangePointer range = std::move(queue_.front());
    queue_.pop_front();
    range->state = Range::State::fetching;
    LargeBuffer data;
    if (!spare_buffers_.empty()) {
      data = std::move(spare_buffers_.back());
      spare_buffers_.pop_back();
      spare_bytes_ -= data.capacity();
    }
    lock.unlock();
    bool fetched = false;
    try {
      repository_.read_pack_range_into(range->pack, range->offset, range->length, data);
      fetched = true;
    } catch (const std::exception&) {
      // The writer that wants a blob of it reads that blob directly, and reports its error.
    }
    lock.lock();
    range->data = std::move(data);
    range->state = fetched ? Range::State::ready : Range::State::failed;
    if (fetched) {
      statistics_.ranges++;
      statistics_.bytes_fetched += range->length;
    }
    // A range whose blobs were all discarded meanwhile goes now.
    if (range->uses == 0) {
      range->uses = 1;
      release(range);
    }
    changed_.notify_all();
  }
}

}  // namespace obkeep::repo
