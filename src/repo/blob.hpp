// A blob is one chunk of file data or one tree, stored compressed (when it pays) and sealed.
#pragma once

#include <cstdint>
#include <functional>

#include "crypto/aead.hpp"
#include "util/bytes.hpp"
#include "util/id.hpp"

namespace obkeep::repo {

enum class BlobType : uint8_t { data = 0, tree = 1 };

const char* to_string(BlobType type);

// What a blob's seal authenticates besides its bytes (docs/repository-format.md §5).
// Format 1 binds the blob type; format 2 binds the type and the id, so a blob that opens
// is the blob of that id, and a reader need not hash its plaintext again to know it.
enum class BlobBinding : uint8_t { type, type_and_id };
BlobBinding blob_binding_of(int format_version);

// How a blob is sealed and opened: the encryption key and what the seal binds.
struct BlobSealing {
  const crypto::Key256& key;
  BlobBinding binding;
};

// How hard encode_blob compresses: `standard` (zstd 3 when a sample shows it pays) for
// everything a backup keeps; `fast` (zstd 1, no sample) for archived WAL, pushed one
// segment at a time while the server waits (on WAL, level 1 was as small and 1/3 faster);
// `fastest` (zstd -3 with entropy-coded literals, no sample) for database dump streams,
// whose bytes are mostly random keys and tokens that only the entropy coder shrinks: 1%
// larger than level 1 and a third less CPU, where the server shares the cores (on WAL the
// same setting stored 14% more).
enum class CompressionEffort { standard, fast, fastest };

// Compresses `plaintext` with zstd when a sample shows it pays, then seals it into the
// memory `reserve(n)` provides (n bytes, written exactly). Returns n.
size_t encode_blob(const BlobSealing& sealing, BlobType type, const Id& id, ByteView plaintext,
                   const std::function<uint8_t*(size_t)>& reserve,
                   CompressionEffort effort = CompressionEffort::standard);

// A stored blob of another repository (`from`) sealed again for this one (`to`), as it is:
// compressed or raw, never decompressed. Only for a `from` that binds the id
// (BlobBinding::type_and_id), whose seal alone proves the blob; throws IntegrityError when
// it does not open or its length cannot be right for `raw_length`. Returns the bytes
// written into `reserve(n)`.
size_t reseal_blob(const BlobSealing& from, const BlobSealing& to, BlobType type, const Id& id, ByteView sealed,
                   uint32_t raw_length, const std::function<uint8_t*(size_t)>& reserve);

// Opens and decompresses; throws IntegrityError on any mismatch (including a raw
// length that differs from `raw_length`). Under BlobBinding::type the caller must still
// compare the plaintext's keyed hash with the id.
Bytes decode_blob(const BlobSealing& sealing, BlobType type, const Id& id, ByteView sealed, uint32_t raw_length);
// The same into memory the caller provides: exactly the raw length, `out.size()` bytes.
void decode_blob_into(const BlobSealing& sealing, BlobType type, const Id& id, ByteView sealed,
                      std::span<uint8_t> out);

}  // namespace obkeep::repo
