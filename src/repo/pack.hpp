// Pack files: many sealed blobs followed by a sealed header that lists them.
#pragma once

#include <vector>

#include "crypto/aead.hpp"
#include "repo/blob.hpp"
#include "util/id.hpp"

namespace obkeep::repo {

struct PackedBlob {
  BlobType type;
  uint32_t offset;         // of the sealed blob in the pack
  uint32_t stored_length;  // sealed length
  uint32_t raw_length;     // plaintext length
  Id id;
};

constexpr size_t pack_header_entry_size = 1 + 4 + 4 + 32;
constexpr size_t target_pack_size = 16 * 1024 * 1024;

// Accumulates blobs in memory; finish() appends the header and returns the pack bytes.
// The buffer is page-aligned (so the backend can write it with O_DIRECT, without a copy
// into the page cache), reserved once and reused for every pack the writer makes.
class PackWriter {
 public:
  // `kind`: the blobs this writer takes. Trees go in packs of their own, so that a restore's
  // walk finds a snapshot's trees together in a few reads; a tree writer starts small.
  PackWriter(const crypto::Key256& key, BlobBinding binding, BlobType kind = BlobType::data);
  ~PackWriter();
  BlobType kind() const { return kind_; }
  PackWriter(const PackWriter&) = delete;
  PackWriter& operator=(const PackWriter&) = delete;
  void add(BlobType type, const Id& id, ByteView plaintext, CompressionEffort effort = CompressionEffort::standard);
  // A blob stored by another repository, sealed again with this pack's key (reseal_blob).
  void add_resealed(const BlobSealing& from, BlobType type, const Id& id, ByteView sealed, uint32_t raw_length);
  size_t size() const { return size_; }
  size_t count() const { return blobs_.size(); }
  bool full() const { return size_ >= target_pack_size; }
  const std::vector<PackedBlob>& blobs() const { return blobs_; }
  // Appends the sealed header and its length; the view is valid until reset().
  ByteView finish();
  void reset();

 private:
  uint8_t* reserve(size_t n);  // n more bytes at the end, growing the buffer when needed
  void grow(size_t capacity);  // a larger page-aligned buffer, keeping the content

  const crypto::Key256& key_;
  BlobBinding binding_;
  BlobType kind_;
  uint8_t* data_ = nullptr;
  size_t size_ = 0, capacity_ = 0;
  std::vector<PackedBlob> blobs_;
};

// Reads the header from the last bytes of a pack (the caller loads `tail` = the final
// bytes, at least the header and its 4-byte length). Throws IntegrityError.
std::vector<PackedBlob> parse_pack_header(const crypto::Key256& key, ByteView tail, uint64_t pack_size);

// Encodes/decodes the plaintext header (exposed for the fuzz target).
Bytes encode_pack_header(const std::vector<PackedBlob>& blobs);
std::vector<PackedBlob> decode_pack_header(ByteView plaintext, uint64_t pack_size);

}  // namespace obkeep::repo
