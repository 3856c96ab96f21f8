// Reading ahead of a restore's writers from a remote store. A restore from a DR site is
// bounded by round trips when each writer fetches its own blobs as it needs them. Here the
// walk announces each file's blobs as it queues the file; neighbouring blobs of a pack
// (the backup wrote neighbouring files into neighbouring pack space) become one range of
// up to 16 MiB, fetched once by a pool of fetchers that run ahead of the writers, many
// ranges in flight; the writers open their blobs from what arrived. Fetched and not yet
// used ranges are bounded by a memory budget: the walk waits when it is spent.
//
// The walk meets a pack's blobs roughly, not strictly, in order: the backup filled each
// pack from several reader threads, so a pack interleaves files of several directories.
// A pack may therefore have several ranges growing at once, each at either end, and two
// that grow into each other become one. A range stops growing when a writer wants it,
// when it is full, or when the walk has gone on for a while without adding to it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "repo/blob_source.hpp"
#include "repo/repository.hpp"

namespace obkeep::repo {

class PackReadAhead : public BlobSource {
 public:
  // Blobs closer than max_gap() in a pack (the store's read_gap) are fetched together, with
  // the bytes between them.
  uint64_t max_gap() const { return max_gap_; }
  static constexpr uint64_t max_range = 16 * 1024 * 1024;

  // Ranges growing at once (over all packs); beyond, the stalest is fetched.
  static constexpr size_t max_growing = 128;
  // A range the walk has not added to for this many announced bytes is fetched: its
  // files are behind the walk, and their writers will soon want it.
  static constexpr uint64_t stale_after = 96 * 1024 * 1024;

  // `abandoned`, once true, ends any wait for the budget: the caller is giving up.
  // `before_waiting` runs (without the read-ahead's lock) before announce() waits for the
  // budget: the walk hands its writers what it has queued but not yet handed over, whose
  // blobs may hold the budget it waits for.
  PackReadAhead(Repository& repository, unsigned fetchers, uint64_t memory_budget, const std::atomic<bool>& abandoned,
                std::function<void()> before_waiting = {});
  // Stops the fetchers (a fetch under way finishes first).
  ~PackReadAhead() override;
  PackReadAhead(const PackReadAhead&) = delete;
  PackReadAhead& operator=(const PackReadAhead&) = delete;

  // The blob will be read once more (by load_into or discard). Blocks while the budget is
  // spent, unless `beyond_budget` (a writer reading ahead in its own large file, which must
  // not wait for other writers' files); throws Error(interrupted) on a signal.
  void announce(const BlobLocation& location, bool beyond_budget = false);
  // A writer's read-ahead in its own large file: the blobs announced beyond the budget, and
  // their ranges (merged where adjacent) fetched at once. The writer will want them in turn,
  // and no later announcement may come to make them stale (the walk may be over).
  void announce_soon(const std::vector<BlobLocation>& locations);
  // Opens an announced blob from its range, waiting for the fetch; a blob not announced,
  // or whose range could not be fetched, is read directly (which names the blob at fault).
  void load_into(const Id& id, const BlobLocation& location, std::span<uint8_t> out) override;
  // An announced blob that will not be read after all (its file failed).
  void discard(const BlobLocation& location);
  // Starts fetching the ranges being extended (the end of the walk).
  void flush();

  struct Statistics {
    uint64_t ranges = 0, bytes_fetched = 0, direct_reads = 0;
  };
  Statistics statistics();

 private:
  struct Range {
    Id pack;
    uint64_t offset = 0, length = 0;
    enum class State { growing, queued, fetching, ready, failed } state = State::growing;
    LargeBuffer data;
    size_t uses = 0;  // announced blobs not yet read
    uint64_t last_grown = 0;  // announced_ when it last grew
  };
  using RangePointer = std::shared_ptr<Range>;

  // With mutex_ held:
  RangePointer covering(const BlobLocation& location);
  // Adds the blob [start, end) to a growing neighbour of its pack; false when none fits.
  bool grow(const Id& pack, uint64_t start, uint64_t end);
  void queue(const RangePointer& range);  // a growing range, to the fetchers
  void queue_stale();
  void release(const RangePointer& range);
  void fetch();

  Repository& repository_;
  uint64_t max_gap_;
  uint64_t budget_;
  const std::atomic<bool>& abandoned_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::function<void()> before_waiting_;
  std::map<Id, std::map<uint64_t, RangePointer>> ranges_;  // live ranges by pack and offset
  std::vector<RangePointer> growing_;                      // at most max_growing
  std::deque<RangePointer> queue_;
  uint64_t held_ = 0;  // bytes of live ranges
  uint64_t announced_ = 0;  // bytes announced so far
  bool stopping_ = false;
  Statistics statistics_;
  // Buffers of released ranges, for the next fetches: a new 16 MiB buffer is 4,096 pages to
  // fault in (12–15 µs each in a virtual machine) and to zero. At most spare_limit bytes.
  static constexpr uint64_t spare_limit = 64 * 1024 * 1024;
  std::vector<LargeBuffer> spare_buffers_;
  uint64_t spare_bytes_ = 0;
  std::vector<std::thread> fetchers_;
};

}  // namespace obkeep::repo
