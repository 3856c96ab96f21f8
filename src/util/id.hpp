// A 32-byte object or blob id, printed as 64 hex digits.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>

#include "util/bytes.hpp"

namespace obkeep {

struct Id {
  std::array<uint8_t, 32> bytes{};

  std::string hex() const { return to_hex(bytes); }
  std::string short_hex() const { return hex().substr(0, 8); }
  bool is_zero() const {
    for (uint8_t b : bytes)
      if (b) return false;
    return true;
  }
  static Id from_hex(std::string_view hex);  // throws Error on bad input
  static Id from_bytes(const uint8_t* p) {
    Id id;
    std::memcpy(id.bytes.data(), p, 32);
    return id;
  }
  auto operator<=>(const Id&) const = default;
};

struct IdHash {
  size_t operator()(const Id& id) const noexcept {
    size_t h;
    std::memcpy(&h, id.bytes.data(), sizeof h);  // ids are uniformly random already
    return h;
  }
};

}  // namespace obkeep
