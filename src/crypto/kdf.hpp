// Password-based key derivation with scrypt (memory-hard), parameters stored per key file.
#pragma once

#include <cstdint>

#include "crypto/aead.hpp"

namespace obkeep::crypto {

struct ScryptParams {
  uint64_t n = 1 << 15;  // 32 MiB of memory with r = 8
  uint32_t r = 8;
  uint32_t p = 1;
};

Key256 derive_key(std::string_view password, ByteView salt, const ScryptParams& params);

}  // namespace obkeep::crypto
