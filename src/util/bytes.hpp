// Byte buffers, hex and little-endian helpers shared by the lower layers.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace obkeep {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

inline ByteView as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string to_string(ByteView b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

std::string to_hex(ByteView bytes);
// Throws Error naming `what` when `hex` is not valid hex.
Bytes from_hex(std::string_view hex, std::string_view what = "hex string");

std::string base64_encode(ByteView bytes);
Bytes base64_decode(std::string_view text);

inline void put_u32le(Bytes& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
inline void put_u64le(Bytes& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
inline uint32_t get_u32le(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
inline uint64_t get_u64le(const uint8_t* p) {
  return uint64_t(get_u32le(p)) | uint64_t(get_u32le(p + 4)) << 32;
}

}  // namespace obkeep
