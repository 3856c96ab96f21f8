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
                             const std::atomic<bool>& abandoned)
    : repository_(repository), budget_(memory_budget), abandoned_(abandoned) {
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

void PackReadAhead::queue_growing(const Id& pack) {
  auto it = growing_.find(pack);
  if (it == growing_.end()) return;
  it->second->state = Range::State::queued;
  queue_.push_back(std::move(it->second));
  growing_.erase(it);
  changed_.notify_all();
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
  range->data = Bytes();
  changed_.notify_all();
}

void PackReadAhead::announce(const BlobLocation& location, bool beyond_budget) {
  std::unique_lock lock(mutex_);
  if (RangePointer range = covering(location)) {
    ++range->uses;
    return;
  }
  uint64_t start = location.offset, end = start + location.stored_length;
  if (auto it = growing_.find(location.pack); it != growing_.end()) {
    RangePointer growing = it->second;
    uint64_t growing_end = growing->offset + growing->length;
    // The walk meets a pack's blobs roughly, not strictly, in order (the backup filled
    // each pack from several reader threads): a range grows at either end.
    uint64_t new_start = std::min(start, growing->offset), new_end = std::max(end, growing_end);
    uint64_t gap = start >= growing_end ? start - growing_end : end <= growing->offset ? growing->offset - end : 0;
    // Ranges never overlap: covering() looks only at the range starting nearest below.
    auto& by_offset = ranges_[location.pack];
    auto self = by_offset.find(growing->offset);
    auto next = std::next(self);
    bool overlaps = (next != by_offset.end() && next->first < new_end) ||
                    (self != by_offset.begin() && std::prev(self)->second->offset + std::prev(self)->second->length > new_start);
    if (gap <= max_gap && new_end - new_start <= max_range && !overlaps) {
      held_ += (new_end - new_start) - growing->length;
      if (new_start != growing->offset) {
        by_offset.erase(self);
        by_offset[new_start] = growing;
        growing->offset = new_start;
      }
      growing->length = new_end - new_start;
      ++growing->uses;
      growing->last_grown = ++announced_;
      return;
    }
    queue_growing(location.pack);
  }
  if (growing_.size() >= max_growing) {
    // The one that grew least recently: its files are furthest behind in the walk.
    auto oldest = growing_.begin();
    for (auto it = growing_.begin(); it != growing_.end(); ++it)
      if (it->second->last_grown < oldest->second->last_grown) oldest = it;
    queue_growing(oldest->first);
  }
  // Within the budget, unless nothing is held (a single blob larger than the budget).
  while (!beyond_budget && held_ > 0 && held_ + location.stored_length > budget_ && !abandoned_) {
    changed_.wait_for(lock, slice);
    if (interrupted()) throw Error("interrupted", ExitCode::interrupted);
  }
  auto range = std::make_shared<Range>();
  range->pack = location.pack;
  range->offset = start;
  range->length = end - start;
  range->uses = 1;
  range->last_grown = ++announced_;
  ranges_[location.pack][start] = range;
  growing_[location.pack] = range;
  held_ += range->length;
}

void PackReadAhead::load_into(const Id& id, const BlobLocation& location, std::span<uint8_t> out) {
  RangePointer range;
  {
    std::unique_lock lock(mutex_);
    range = covering(location);
    if (range) {
      if (range->state == Range::State::growing) queue_growing(range->pack);  // wanted now: no more growing
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
  while (!growing_.empty()) queue_growing(growing_.begin()->first);
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
    lock.unlock();
    Bytes data;
    bool fetched = false;
    try {
      data = repository_.read_pack_range(range->pack, range->offset, range->length);
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
