// PackReadAhead: blobs announced in any order (out of pack order, repeated, interleaved
// between packs) come out exactly as saved, all from ranges fetched ahead, none read
// directly; a budget smaller than the content is respected by announcing only what is
// read; a walk that is abandoned stops waiting for the budget.
#include "repo/pack_read_ahead.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

#include "repo/memory_repository_for_tests.hpp"

namespace obkeep::repo {
namespace {

struct Saved {
  Id id;
  Bytes plaintext;
};

struct Fixture {
  std::unique_ptr<Repository> repository;
  std::vector<Saved> blobs;
};

// Blobs in several packs: two writers filled side by side, as a backup does.
Fixture make_blobs(size_t count) {
  Fixture fixture{make_memory_repository().repository, {}};
  std::vector<std::thread> writers;
  std::mutex mutex;
  for (int w = 0; w < 2; ++w)
    writers.emplace_back([&, w] {
      for (size_t i = w; i < count; i += 2) {
        Bytes data = pseudo_random(1000 + (i * 7919) % 300000, static_cast<uint32_t>(i));
        Id id = fixture.repository->save_blob(BlobType::data, data);
        std::lock_guard lock(mutex);
        fixture.blobs.push_back({id, std::move(data)});
      }
    });
  for (auto& writer : writers) writer.join();
  fixture.repository->flush();
  return fixture;
}

TEST(PackReadAhead, AnnouncedBlobsComeFromRangesInAnyOrder) {
  Fixture fixture = make_blobs(200);
  std::vector<Saved> order = fixture.blobs;
  std::shuffle(order.begin(), order.begin() + 100, std::mt19937(7));  // half out of pack order
  order.push_back(order[3]);                                          // a blob read twice
  std::atomic<bool> abandoned{false};
  PackReadAhead read_ahead(*fixture.repository, 4, 1ull << 30, abandoned);
  for (const Saved& blob : order) read_ahead.announce(fixture.repository->locate(blob.id));
  read_ahead.flush();
  for (const Saved& blob : order) {
    BlobLocation location = fixture.repository->locate(blob.id);
    Bytes out(location.raw_length);
    read_ahead.load_into(blob.id, location, out);
    EXPECT_EQ(out, blob.plaintext);
  }
  auto statistics = read_ahead.statistics();
  EXPECT_EQ(statistics.direct_reads, 0u);
  EXPECT_GT(statistics.ranges, 0u);
}

TEST(PackReadAhead, AWalkAheadOfItsReaderWaitsForTheBudget) {
  Fixture fixture = make_blobs(120);
  std::atomic<bool> abandoned{false};
  constexpr uint64_t budget = 2 * 1024 * 1024;  // far less than the 18 MB saved
  PackReadAhead read_ahead(*fixture.repository, 2, budget, abandoned);
  // As in a restore: the walk announces a blob, then hands it to the reader; it runs
  // ahead until the budget is spent, then waits for the reads to give budget back.
  std::mutex mutex;
  std::condition_variable handed;
  size_t walked = 0;
  std::thread walk([&] {
    for (const Saved& blob : fixture.blobs) {
      read_ahead.announce(fixture.repository->locate(blob.id));
      std::lock_guard lock(mutex);
      ++walked;
      handed.notify_one();
    }
    read_ahead.flush();
  });
  for (size_t i = 0; i < fixture.blobs.size(); ++i) {
    {
      std::unique_lock lock(mutex);
      handed.wait(lock, [&] { return walked > i; });
    }
    const Saved& blob = fixture.blobs[i];
    BlobLocation location = fixture.repository->locate(blob.id);
    Bytes out(location.raw_length);
    read_ahead.load_into(blob.id, location, out);
    EXPECT_EQ(out, blob.plaintext);
  }
  walk.join();
  EXPECT_EQ(read_ahead.statistics().direct_reads, 0u);
}

TEST(PackReadAhead, AbandonedEndsAWaitForTheBudget) {
  Fixture fixture = make_blobs(20);
  std::atomic<bool> abandoned{false};
  PackReadAhead read_ahead(*fixture.repository, 1, 1, abandoned);  // one blob's worth
  read_ahead.announce(fixture.repository->locate(fixture.blobs[0].id));
  std::thread giving_up([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    abandoned = true;
  });
  read_ahead.announce(fixture.repository->locate(fixture.blobs[1].id));  // returns once abandoned
  giving_up.join();
  read_ahead.discard(fixture.repository->locate(fixture.blobs[0].id));
  read_ahead.discard(fixture.repository->locate(fixture.blobs[1].id));
}

// The walk meets a pack's blobs out of order: two ranges grow from far apart blobs of one
// pack, the blobs between join them, and the pack comes in one request.
TEST(PackReadAhead, RangesGrowingTowardsEachOtherBecomeOne) {
  Fixture fixture = make_blobs(200);
  std::map<Id, std::vector<std::pair<BlobLocation, const Saved*>>> by_pack;
  for (const Saved& blob : fixture.blobs) {
    BlobLocation location = fixture.repository->locate(blob.id);
    by_pack[location.pack].emplace_back(location, &blob);
  }
  auto& [pack, blobs] = *std::max_element(by_pack.begin(), by_pack.end(),
                                          [](const auto& a, const auto& b) { return a.second.size() < b.second.size(); });
  std::sort(blobs.begin(), blobs.end(), [](const auto& a, const auto& b) { return a.first.offset < b.first.offset; });
  // The first blob, then one more than the store's read gap beyond it, then everything between.
  size_t far = 1;
  while (far < blobs.size() && blobs[far].first.offset < blobs[0].first.offset + blobs[0].first.stored_length +
                                                           fixture.repository->backend().read_gap() + 1)
    ++far;
  ASSERT_LT(far, blobs.size()) << "the fixture's largest pack is too small for this test";
  uint64_t span = blobs[far].first.offset + blobs[far].first.stored_length - blobs[0].first.offset;
  ASSERT_LE(span, PackReadAhead::max_range);
  std::vector<size_t> order{0, far};
  for (size_t i = far - 1; i > 0; --i) order.push_back(i);
  std::atomic<bool> abandoned{false};
  PackReadAhead read_ahead(*fixture.repository, 2, 1ull << 30, abandoned);
  for (size_t i : order) read_ahead.announce(blobs[i].first);
  read_ahead.flush();
  for (size_t i : order) {
    Bytes out(blobs[i].first.raw_length);
    read_ahead.load_into(blobs[i].second->id, blobs[i].first, out);
    EXPECT_EQ(out, blobs[i].second->plaintext);
  }
  auto statistics = read_ahead.statistics();
  EXPECT_EQ(statistics.ranges, 1u);
  EXPECT_EQ(statistics.bytes_fetched, span);
  EXPECT_EQ(statistics.direct_reads, 0u);
}

// Blobs announced but not yet handed to a reader hold the budget: before waiting for it,
// the walk is asked to hand them over, and the wait ends when they are read.
TEST(PackReadAhead, AWalkOverBudgetHandsOverWhatItHoldsBeforeWaiting) {
  Fixture fixture = make_blobs(200);
  std::atomic<bool> abandoned{false};
  const Saved& first = fixture.blobs[0];
  BlobLocation first_location = fixture.repository->locate(first.id);
  // From another pack: a neighbour in the same pack would join the first one's range.
  auto other_pack = std::find_if(fixture.blobs.begin(), fixture.blobs.end(), [&](const Saved& blob) {
    return fixture.repository->locate(blob.id).pack != first_location.pack;
  });
  ASSERT_NE(other_pack, fixture.blobs.end());
  const Saved& second = *other_pack;
  std::thread reader;
  int handed_over = 0;
  PackReadAhead read_ahead(*fixture.repository, 1, first_location.stored_length, abandoned, [&] {
    ++handed_over;
    reader = std::thread([&] {
      Bytes out(first_location.raw_length);
      read_ahead.load_into(first.id, first_location, out);
      EXPECT_EQ(out, first.plaintext);
    });
  });
  read_ahead.announce(first_location);
  read_ahead.announce(fixture.repository->locate(second.id));  // over budget until the reader is done
  EXPECT_EQ(handed_over, 1);
  reader.join();
  BlobLocation second_location = fixture.repository->locate(second.id);
  Bytes out(second_location.raw_length);
  read_ahead.load_into(second.id, second_location, out);
  EXPECT_EQ(out, second.plaintext);
  EXPECT_EQ(read_ahead.statistics().direct_reads, 0u);
}

}  // namespace
}  // namespace obkeep::repo
