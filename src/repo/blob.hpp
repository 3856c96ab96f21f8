// A blob is one chunk of file data or one tree, stored compressed (when it pays) and sealed.
#pragma once

#include <cstdint>
#include <functional>

#include "crypto/aead.hpp"
#include "util/bytes.hpp"

namespace obkeep::repo {

enum class BlobType : uint8_t { data = 0, tree = 1 };

const char* to_string(BlobType type);

// Compresses `plaintext` with zstd when a sample shows it pays, then seals it into the
// memory `reserve(n)` provides (n bytes, written exactly). Returns n.
size_t encode_blob(const crypto::Key256& key, BlobType type, ByteView plaintext,
                   const std::function<uint8_t*(size_t)>& reserve);

// Opens and decompresses; throws IntegrityError on any mismatch (including a raw
// length that differs from `raw_length`).
Bytes decode_blob(const crypto::Key256& key, BlobType type, ByteView sealed, uint32_t raw_length);
// The same into memory the caller provides: exactly the raw length, `out.size()` bytes.
void decode_blob_into(const crypto::Key256& key, BlobType type, ByteView sealed, std::span<uint8_t> out);

}  // namespace obkeep::repo
