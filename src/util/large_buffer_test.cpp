#include "util/large_buffer.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

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
  Bytes buffer;
  resize_large(buffer, 6 * 1024 * 1024);
  EXPECT_EQ(buffer.size(), 6u * 1024 * 1024);
  buffer.back() = 1;
  const uint8_t* memory = buffer.data();
  resize_large(buffer, 1024);
  EXPECT_EQ(buffer.size(), 1024u);
  resize_large(buffer, 6 * 1024 * 1024);
  EXPECT_EQ(buffer.data(), memory);  // no new memory, nothing to fault in again
  resize_large(buffer, 7 * 1024 * 1024);
  EXPECT_EQ(buffer.size(), 7u * 1024 * 1024);
}

}  // namespace obkeep
