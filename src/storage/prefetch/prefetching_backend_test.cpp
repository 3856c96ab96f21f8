#include "storage/prefetch/prefetching_backend.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <set>

#include "crypto/hash.hpp"
#include "storage/mem/memory_backend.hpp"
#include "util/error.hpp"

namespace obkeep::storage {
namespace {

// A remote-looking store that counts whole loads and fails the first load of each name in
// `failing`.
class CountingBackend : public ForwardingBackend {
 public:
  using ForwardingBackend::ForwardingBackend;
  Bytes load(const Handle& handle, uint64_t offset, uint64_t length) override {
    loads++;
    if (failing.count(handle.name) && !failed.count(handle.name)) {
      failed.insert(handle.name);
      throw Error("injected failure of " + handle.name);
    }
    return inner_->load(handle, offset, length);
  }
  size_t background_saves() const override { return 4; }
  std::atomic<int> loads{0};
  std::set<std::string> failing, failed;  // set before the prefetch starts; its loader thread then only reads
};

std::string save_named(Backend& backend, FileType type, const std::string& text) {
  Bytes data(text.begin(), text.end());
  std::string name = crypto::sha256(data).hex();
  backend.save({type, name}, data);
  return name;
}

TEST(PrefetchingBackend, HandsOutEachListedObjectOnceAndLoadsTheRestAsUsual) {
  auto counting = std::make_unique<CountingBackend>(std::make_unique<MemoryBackend>());
  CountingBackend& store = *counting;
  std::string index = save_named(store, FileType::index, "index one");
  std::string snapshot = save_named(store, FileType::snapshot, "snapshot one");
  std::string broken = save_named(store, FileType::snapshot, "snapshot two");
  std::string pack = save_named(store, FileType::pack, "a pack");
  store.failing = {broken};
  PrefetchingBackend backend(std::move(counting), {FileType::index, FileType::snapshot});

  EXPECT_EQ(backend.load({FileType::index, index}, 0, 0), Bytes({'i', 'n', 'd', 'e', 'x', ' ', 'o', 'n', 'e'}));
  Bytes first = backend.load({FileType::snapshot, snapshot}, 0, 0);
  EXPECT_EQ(std::string(first.begin(), first.end()), "snapshot one");
  EXPECT_EQ(backend.served(), 2u);
  // The prefetch's load of this one failed: it is loaded again, now.
  Bytes second = backend.load({FileType::snapshot, broken}, 0, 0);
  EXPECT_EQ(std::string(second.begin(), second.end()), "snapshot two");
  EXPECT_EQ(backend.served(), 2u);
  EXPECT_EQ(store.loads, 4);  // three prefetched (one failed) and the failed one again

  // Once handed out, a name is loaded from the store; so are names saved after the listing,
  // ranges, and other types.
  backend.load({FileType::index, index}, 0, 0);
  std::string later = save_named(backend, FileType::index, "index two");
  Bytes late = backend.load({FileType::index, later}, 0, 0);
  EXPECT_EQ(std::string(late.begin(), late.end()), "index two");
  Bytes range = backend.load({FileType::snapshot, snapshot}, 2, 3);
  EXPECT_EQ(std::string(range.begin(), range.end()), "aps");
  backend.load({FileType::pack, pack}, 0, 0);
  EXPECT_EQ(backend.served(), 2u);
  EXPECT_EQ(store.loads, 8);
  EXPECT_THROW(backend.load({FileType::index, std::string(64, '0')}, 0, 0), Error);
}

TEST(PrefetchingBackend, OnlyARemoteStoreIsWrapped) {
  auto local = std::make_unique<MemoryBackend>();
  Backend* plain = local.get();
  EXPECT_EQ(with_prefetch(std::move(local), {FileType::index}).get(), plain);
  auto remote = std::make_unique<CountingBackend>(std::make_unique<MemoryBackend>());
  Backend* far = remote.get();
  auto wrapped = with_prefetch(std::move(remote), {FileType::index});
  EXPECT_NE(wrapped.get(), far);
  EXPECT_NE(dynamic_cast<PrefetchingBackend*>(wrapped.get()), nullptr);
  auto unwrapped = with_prefetch(std::make_unique<CountingBackend>(std::make_unique<MemoryBackend>()), {});
  EXPECT_EQ(dynamic_cast<PrefetchingBackend*>(unwrapped.get()), nullptr);
}

}  // namespace
}  // namespace obkeep::storage
