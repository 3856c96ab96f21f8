#include "util/bytes.hpp"

#include <gtest/gtest.h>

#include "util/error.hpp"

namespace obkeep {

TEST(Bytes, HexRoundTrip) {
  Bytes data{0x00, 0x7f, 0xff, 0x10};
  EXPECT_EQ(to_hex(data), "007fff10");
  EXPECT_EQ(from_hex("007FFF10"), data);
  EXPECT_THROW(from_hex("0g"), Error);
  EXPECT_THROW(from_hex("abc"), Error);
}

TEST(Bytes, Base64RoundTrip) {
  for (size_t n = 0; n < 10; ++n) {
    Bytes data(n);
    for (size_t i = 0; i < n; ++i) data[i] = static_cast<uint8_t>(i * 37 + 1);
    EXPECT_EQ(base64_decode(base64_encode(data)), data) << n;
  }
}

}  // namespace obkeep
