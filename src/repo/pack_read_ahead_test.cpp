// PackReadAhead: blobs announced in any order (out of pack order, repeated, interleaved
// between packs) come out exactly as saved, all from ranges fetched ahead, none read
// directly; a budget smaller than the content is respected by announcing only what is
// read; a walk that is abandoned stops waiting for the budget.
#include "repo/pack_read_ahead.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

#include "storage/mem/memory_backend.hpp"

namespace obkeep::repo {
namespace {

Bytes pseudo_random(size_t size, uint32_t seed) {
  Bytes data(size);
  for (auto& byte : data) {
    seed = seed * 1664525u + 1013904223u;
    byte = static_cast<uint8_t>(seed >> 24);
  }
  return data;
}

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
  auto backend = std::make_unique<storage::MemoryBackend>();
  InitOptions options;
  options.scrypt = {1 << 10, 8, 1};
  Repository::init(*backend, "pw", options);
  Fixture fixture{Repository::open(std::move(backend), "pw"), {}};
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

}  // namespace
}  // namespace obkeep::repo
