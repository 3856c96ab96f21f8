// Authenticated encryption of every stored object: AES-256-GCM with a random 96-bit nonce.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>

#include "util/bytes.hpp"

namespace obkeep::crypto {

using Key256 = std::array<uint8_t, 32>;

constexpr size_t nonce_size = 12;
constexpr size_t tag_size = 16;
constexpr size_t seal_overhead = nonce_size + tag_size;

// Returns nonce || ciphertext || tag. `associated` is authenticated, not stored.
Bytes seal(const Key256& key, ByteView plaintext, ByteView associated = {});
// Seals the concatenation of `parts` (no copy to join them) into `out`, which has room for
// seal_overhead plus the parts; returns the sealed length. Packs are written this way.
size_t seal_into(const Key256& key, std::initializer_list<ByteView> parts, ByteView associated, uint8_t* out);
// Throws IntegrityError when the data was not sealed under this key and `associated`.
Bytes open(const Key256& key, ByteView sealed, ByteView associated = {});
// The same into `parts` (their sizes add up to the plaintext's): a caller can split off a
// header byte without copying the rest. Nothing in `parts` may be used if this throws.
void open_into(const Key256& key, ByteView sealed, ByteView associated, std::initializer_list<std::span<uint8_t>> parts);

void random_bytes(uint8_t* out, size_t length);
Key256 random_key();

}  // namespace obkeep::crypto
