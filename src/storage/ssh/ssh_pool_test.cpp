// SshPool's idle leases: only connections no call uses are lent, never waited for or
// opened, and each goes back when its lease ends.
#include "storage/ssh/ssh_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

namespace obkeep::storage {
namespace {

struct FakeConnection {
  std::atomic<int> users{0};
  bool broken = false;
  bool failed() const { return broken; }
};

// A pool of `size` fake connections, every one of them open.
std::unique_ptr<SshPool<FakeConnection>> open_pool(size_t size, std::atomic<int>& opened) {
  auto pool = std::make_unique<SshPool<FakeConnection>>(
      [&opened](const std::atomic<bool>*) {
        ++opened;
        return std::make_shared<FakeConnection>();
      },
      size);
  for (int wait = 0; opened < static_cast<int>(size) && wait < 500; ++wait)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return pool;
}

TEST(SshPoolIdleLease, LendsOnlyIdleConnectionsAndGivesThemBack) {
  std::atomic<int> opened{0};
  auto pool = open_pool(4, opened);
  ASSERT_EQ(opened, 4);
  pool->with_connection([&](const std::shared_ptr<FakeConnection>& busy) {
    // Three others are idle: asked for five, three are lent, none of them the busy one.
    auto leases = pool->lease_idle(5);
    EXPECT_EQ(leases.size(), 3u);
    for (const auto& lease : leases) {
      EXPECT_NE(&lease.connection(), busy.get());
      EXPECT_EQ(lease.connection().users, 1);
    }
    EXPECT_TRUE(pool->lease_idle(2).empty());  // nothing idle is left, and nothing is opened
    {
      auto one = pool->lease_idle(1);
      EXPECT_TRUE(one.empty());
    }
    leases.pop_back();  // one given back: lent again
    EXPECT_EQ(pool->lease_idle(1).size(), 1u);
    return 0;
  });
  EXPECT_EQ(opened, 4);  // leases never open a connection
  EXPECT_EQ(pool->lease_idle(8).size(), 4u);
  EXPECT_TRUE(pool->lease_idle(0).empty());
}

// The pool is sized once the first connection has timed the link, in the background: until
// then calls share the first connection and max_connections() waits; then it grows.
TEST(SshPoolSizing, CallsShareTheFirstConnectionUntilTheLinkIsTimed) {
  std::atomic<int> opened{0};
  std::atomic<bool> timed{false};
  SshPool<FakeConnection> pool(
      [&opened](const std::atomic<bool>*) {
        ++opened;
        return std::make_shared<FakeConnection>();
      },
      [&timed](FakeConnection&, const std::atomic<bool>* cancelled) {
        while (!timed && !*cancelled) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        return size_t{3};
      });
  pool.with_connection([&](const std::shared_ptr<FakeConnection>& first) {
    pool.with_connection([&](const std::shared_ptr<FakeConnection>& second) {
      EXPECT_EQ(second.get(), first.get()) << "a connection opened before the pool was sized";
      return 0;
    });
    return 0;
  });
  EXPECT_EQ(opened, 1);
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    timed = true;
  });
  EXPECT_EQ(pool.max_connections(), 3u);  // waits for the timing
  release.join();
  for (int wait = 0; opened < 3 && wait < 500; ++wait) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(opened, 3);
}

// A pool going away while the link is still being timed does not wait for the timing.
TEST(SshPoolSizing, APoolClosedWhileTimingTheLinkEndsAtOnce) {
  auto start = std::chrono::steady_clock::now();
  {
    SshPool<FakeConnection> pool([](const std::atomic<bool>*) { return std::make_shared<FakeConnection>(); },
                                 [](FakeConnection&, const std::atomic<bool>* cancelled) -> size_t {
                                   while (!*cancelled) std::this_thread::sleep_for(std::chrono::milliseconds(5));
                                   throw Error("abandoned");
                                 });
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

// A call that names a preferred connection (one holding its file open) gets it while it is
// busy with at most one call more than the least used; beyond, the least used.
TEST(SshPoolPreference, TakesThePreferredConnectionUnlessItIsBusierByMoreThanOne) {
  std::atomic<int> opened{0};
  auto pool = open_pool(3, opened);
  ASSERT_EQ(opened, 3);
  FakeConnection* favourite = nullptr;
  pool->with_connection([&](const std::shared_ptr<FakeConnection>& first) {
    favourite = first.get();
    auto is_favourite = [&](const FakeConnection& connection) { return &connection == favourite; };
    // The favourite has one call, the others none: still taken.
    pool->with_connection(
        [&](const std::shared_ptr<FakeConnection>& second) {
          EXPECT_EQ(second.get(), favourite);
          EXPECT_EQ(favourite->users, 2);
          // Now two calls more than the idle ones: the least used instead.
          pool->with_connection(
              [&](const std::shared_ptr<FakeConnection>& third) {
                EXPECT_NE(third.get(), favourite);
                EXPECT_EQ(third->users, 1);
                return 0;
              },
              is_favourite);
          return 0;
        },
        is_favourite);
    return 0;
  });
  // Without a preference, the least used, as before.
  pool->with_connection([&](const std::shared_ptr<FakeConnection>& busy) {
    pool->with_connection([&](const std::shared_ptr<FakeConnection>& other) {
      EXPECT_NE(other.get(), busy.get());
      return 0;
    });
    return 0;
  });
  EXPECT_EQ(opened, 3);
}

}  // namespace
}  // namespace obkeep::storage
