#include "util/large_buffer.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <utility>

namespace obkeep {

TEST(LargeBuffer, IsPageAlignedAndRoundedUp) {
  size_t small = 5000;
  uint8_t* a = allocate_large_buffer(small);
  EXPECT_EQ(small, 8192u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a) % 4096, 0u);
  size_t large = 3 * 1024 * 1024 + 1;
  uint8_t* b = allocate_large_buffer(large);
  EXPECT_EQ(large, 4u * 1024 * 1024);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b) % (2 * 1024 * 1024), 0u);
  std::memset(b, 7, large);  // all of it is usable
  std::free(a);
  std::free(b);
}

TEST(LargeBuffer, ResizeReusesWhatIsLargeEnough) {
  LargeBuffer buffer;
  buffer.resize_for_overwrite(6 * 1024 * 1024);
  EXPECT_EQ(buffer.size(), 6u * 1024 * 1024);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(buffer.data()) % (2 * 1024 * 1024), 0u);
  buffer.data()[buffer.size() - 1] = 1;
  const uint8_t* memory = buffer.data();
  buffer.resize_for_overwrite(1024);
  EXPECT_EQ(buffer.size(), 1024u);
  buffer.resize_for_overwrite(6 * 1024 * 1024);
  EXPECT_EQ(buffer.data(), memory);  // no new memory, nothing to fault in again
  EXPECT_EQ(buffer.data()[buffer.size() - 1], 1);  // and nothing zeroed
  buffer.resize_for_overwrite(7 * 1024 * 1024);
  EXPECT_EQ(buffer.size(), 7u * 1024 * 1024);
  EXPECT_GE(buffer.capacity(), buffer.size());
  std::memset(buffer.data(), 7, buffer.size());  // all of it is usable
}

TEST(LargeBuffer, MovesItsMemory) {
  LargeBuffer a;
  a.resize_for_overwrite(5000);
  const uint8_t* memory = a.data();
  LargeBuffer b(std::move(a));
  EXPECT_EQ(b.data(), memory);
  EXPECT_EQ(b.size(), 5000u);
  EXPECT_EQ(a.data(), nullptr);  // NOLINT(bugprone-use-after-move): moved-from is empty
  EXPECT_EQ(a.capacity(), 0u);
  LargeBuffer c;
  c.resize_for_overwrite(100);
  c = std::move(b);
  EXPECT_EQ(c.data(), memory);
  EXPECT_EQ(c.span().size(), 5000u);
}

}  // namespace obkeep
