// The rate-limited backend: saves, loads and reads take as long as the limit says; a backend
// that paces its own pieces is not charged twice; locks and control calls go free.
#include "storage/limit/rate_limited_backend.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>

#include "storage/mem/memory_backend.hpp"
#include "storage/transfer_pacer.hpp"

namespace obkeep::storage {

namespace {

constexpr uint64_t rate = 1024 * 1024;  // pieces and burst: 256 KiB
const Handle pack{FileType::pack, std::string(64, 'a')};
const Handle lock{FileType::lock, std::string(64, 'b')};

// A memory backend that sends its saves in pieces through the pacer, as the local one does.
class PiecewiseBackend : public MemoryBackend {
 public:
  void save(const Handle& handle, ByteView data) override {
    uint64_t piece = transfer_piece_size();
    pieces = 0;
    for (uint64_t done = 0; piece && done < data.size(); done += piece, ++pieces)
      pace_transfer(std::min<uint64_t>(piece, data.size() - done));
    MemoryBackend::save(handle, data);
  }
  int pieces = 0;
};

template <typename Call>
double seconds(Call call) {
  auto start = std::chrono::steady_clock::now();
  call();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

TEST(RateLimitedBackend, PieceSizeIsAQuarterSecondInPagesWithinBounds) {
  EXPECT_EQ(limit_piece_size(rate), 256u * 1024);
  EXPECT_EQ(limit_piece_size(1000), 16u * 1024);
  EXPECT_EQ(limit_piece_size(uint64_t(1) << 40), 4u * 1024 * 1024);
  EXPECT_EQ(limit_piece_size(4096 * 1024 + 12345) % 4096, 0u);
}

TEST(RateLimitedBackend, SavesAndLoadsTakeTheTimeTheLimitAllows) {
  RateLimitedBackend backend(std::make_unique<MemoryBackend>(), {rate, rate});
  Bytes data(768 * 1024, 7);
  // 768 KiB less the 256 KiB burst at 1 MiB/s: half a second each way.
  EXPECT_NEAR(seconds([&] { backend.save(pack, data); }), 0.5, 0.05);
  Bytes loaded;
  // The download bucket is separate and starts full: the first piece goes at once.
  EXPECT_NEAR(seconds([&] { loaded = backend.load(pack, 0, data.size()); }), 0.5, 0.05);
  EXPECT_EQ(loaded, data);
  Bytes part;
  EXPECT_NEAR(
      seconds([&] { backend.read(pack, 1000, 512 * 1024, [&](ByteView b) { part.assign(b.begin(), b.end()); }); }), 0.5,
      0.05);
  EXPECT_EQ(part, Bytes(data.begin() + 1000, data.begin() + 1000 + 512 * 1024));
}

TEST(RateLimitedBackend, ABackendThatPacesItsPiecesIsNotChargedTwice) {
  auto inner = std::make_unique<PiecewiseBackend>();
  PiecewiseBackend& piecewise = *inner;
  RateLimitedBackend backend(std::move(inner), {rate, 0});
  Bytes data(768 * 1024, 1);
  EXPECT_NEAR(seconds([&] { backend.save(pack, data); }), 0.5, 0.05);
  EXPECT_EQ(piecewise.pieces, 3);
  // Downloads are unlimited here.
  EXPECT_LT(seconds([&] { backend.load(pack, 0, 0); }), 0.05);
}

TEST(RateLimitedBackend, LocksAndControlCallsAreNotLimited) {
  RateLimitedBackend backend(std::make_unique<MemoryBackend>(), {rate, rate});
  Bytes data(2 * 1024 * 1024, 3);
  EXPECT_LT(seconds([&] {
              backend.save(lock, data);
              backend.load(lock, 0, 0);
              backend.stat(lock);
              backend.list(FileType::lock, [](const std::string&, uint64_t) {});
              backend.remove(lock);
            }),
            0.05);
}

TEST(RateLimitedBackend, NoLimitsMeansNoWrapper) {
  auto inner = std::make_unique<MemoryBackend>();
  Backend* raw = inner.get();
  EXPECT_EQ(with_limits(std::move(inner), {}).get(), raw);
}

}  // namespace obkeep::storage
