// Pack layout: blob*, sealed header, u32le header length. See docs/repository-format.md.
#include "repo/pack.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "util/error.hpp"
#include "util/large_buffer.hpp"

namespace obkeep::repo {

namespace {
const uint8_t header_associated = 'H';
}  // namespace

// Room for a full pack plus the largest blob that can push it over, so it rarely grows;
// trees are a small part of a backup, and their writer grows when it must.
PackWriter::PackWriter(const crypto::Key256& key, BlobBinding binding, BlobType kind)
    : key_(key), binding_(binding), kind_(kind) {
  grow(kind == BlobType::tree ? 1024 * 1024 : target_pack_size + 5 * 1024 * 1024);
}

PackWriter::~PackWriter() { std::free(data_); }

void PackWriter::grow(size_t capacity) {
  uint8_t* grown = allocate_large_buffer(capacity);
  if (size_) std::memcpy(grown, data_, size_);
  std::free(data_);
  data_ = grown;
  capacity_ = capacity;
}

uint8_t* PackWriter::reserve(size_t n) {
  if (size_ + n > capacity_) grow(std::max(size_ + n, 2 * capacity_));
  uint8_t* at = data_ + size_;
  size_ += n;
  return at;
}

void PackWriter::add(BlobType type, const Id& id, ByteView plaintext, CompressionEffort effort) {
  uint32_t offset = static_cast<uint32_t>(size_);
  size_t stored = encode_blob({key_, binding_}, type, id, plaintext, [this](size_t n) { return reserve(n); }, effort);
  blobs_.push_back({type, offset, static_cast<uint32_t>(stored), static_cast<uint32_t>(plaintext.size()), id});
}

void PackWriter::add_resealed(const BlobSealing& from, BlobType type, const Id& id, ByteView sealed,
                              uint32_t raw_length) {
  uint32_t offset = static_cast<uint32_t>(size_);
  size_t stored = reseal_blob(from, {key_, binding_}, type, id, sealed, raw_length, [this](size_t n) { return reserve(n); });
  blobs_.push_back({type, offset, static_cast<uint32_t>(stored), raw_length, id});
}

Bytes encode_pack_header(const std::vector<PackedBlob>& blobs) {
  Bytes header;
  header.reserve(blobs.size() * pack_header_entry_size);
  for (const PackedBlob& blob : blobs) {
    header.push_back(static_cast<uint8_t>(blob.type));
    put_u32le(header, blob.stored_length);
    put_u32le(header, blob.raw_length);
    header.insert(header.end(), blob.id.bytes.begin(), blob.id.bytes.end());
  }
  return header;
}

ByteView PackWriter::finish() {
  Bytes header = encode_pack_header(blobs_);
  uint32_t sealed = static_cast<uint32_t>(
      crypto::seal_into(key_, {header}, ByteView(&header_associated, 1), reserve(crypto::seal_overhead + header.size())));
  uint8_t* length = reserve(4);
  for (int i = 0; i < 4; ++i) length[i] = static_cast<uint8_t>(sealed >> (8 * i));
  return ByteView(data_, size_);
}

void PackWriter::reset() {
  size_ = 0;  // keeps the buffer
  blobs_.clear();
}

std::vector<PackedBlob> decode_pack_header(ByteView plaintext, uint64_t pack_size) {
  if (plaintext.size() % pack_header_entry_size != 0) throw IntegrityError("pack header has a partial entry");
  std::vector<PackedBlob> blobs;
  uint64_t offset = 0;
  for (size_t at = 0; at < plaintext.size(); at += pack_header_entry_size) {
    const uint8_t* entry = plaintext.data() + at;
    if (entry[0] > 1) throw IntegrityError("pack header has an unknown blob type");
    PackedBlob blob{static_cast<BlobType>(entry[0]), static_cast<uint32_t>(offset), get_u32le(entry + 1),
                    get_u32le(entry + 5), Id::from_bytes(entry + 9)};
    if (blob.stored_length < crypto::seal_overhead + 1) throw IntegrityError("pack header has a too short blob");
    offset += blob.stored_length;
    if (offset > pack_size || offset > UINT32_MAX) throw IntegrityError("pack header points past the pack's end");
    blobs.push_back(blob);
  }
  return blobs;
}

std::vector<PackedBlob> parse_pack_header(const crypto::Key256& key, ByteView tail, uint64_t pack_size) {
  if (tail.size() < 4) throw IntegrityError("pack too short for a header");
  uint32_t header_length = get_u32le(tail.data() + tail.size() - 4);
  if (uint64_t(header_length) + 4 > tail.size() || uint64_t(header_length) + 4 > pack_size)
    throw IntegrityError("pack header length is out of range");
  ByteView sealed = tail.subspan(tail.size() - 4 - header_length, header_length);
  Bytes plaintext = crypto::open(key, sealed, ByteView(&header_associated, 1));
  return decode_pack_header(plaintext, pack_size - 4 - header_length);
}

}  // namespace obkeep::repo
