// Index files (binary, sealed) and the in-memory blob → pack map.
#include "repo/index.hpp"

#include <algorithm>
#include <cstring>
#include <tuple>

#include "util/error.hpp"

namespace obkeep::repo {

namespace {

constexpr char index_magic[8] = {'O', 'B', 'K', 'I', 'D', 'X', '0', '1'};
constexpr size_t index_entry_size = 1 + 4 + 4 + 4 + 32;

struct Cursor {
  ByteView data;
  size_t at = 0;
  const uint8_t* take(size_t n) {
    if (data.size() - at < n) throw IntegrityError("index file is truncated");
    const uint8_t* p = data.data() + at;
    at += n;
    return p;
  }
  uint32_t u32() { return get_u32le(take(4)); }
};

}  // namespace

Bytes encode_index_file(const IndexFile& file) {
  Bytes out(index_magic, index_magic + 8);
  size_t blobs = 0;
  for (const auto& pack : file.packs) blobs += pack.blobs.size();
  out.reserve(16 + 32 * file.supersedes.size() + 36 * file.packs.size() + 45 * blobs);
  put_u32le(out, static_cast<uint32_t>(file.supersedes.size()));
  for (const Id& id : file.supersedes) out.insert(out.end(), id.bytes.begin(), id.bytes.end());
  put_u32le(out, static_cast<uint32_t>(file.packs.size()));
  for (const auto& pack : file.packs) {
    out.insert(out.end(), pack.id.bytes.begin(), pack.id.bytes.end());
    put_u32le(out, static_cast<uint32_t>(pack.blobs.size()));
    for (const PackedBlob& blob : pack.blobs) {
      out.push_back(static_cast<uint8_t>(blob.type));
      put_u32le(out, blob.offset);
      put_u32le(out, blob.stored_length);
      put_u32le(out, blob.raw_length);
      out.insert(out.end(), blob.id.bytes.begin(), blob.id.bytes.end());
    }
  }
  return out;
}

IndexFile decode_index_file(ByteView plaintext) {
  Cursor cursor{plaintext};
  if (std::memcmp(cursor.take(8), index_magic, 8) != 0) throw IntegrityError("index file has an unknown format");
  IndexFile file;
  uint32_t superseded = cursor.u32();
  if (superseded > plaintext.size() / 32) throw IntegrityError("index file is truncated");
  for (uint32_t i = 0; i < superseded; ++i) file.supersedes.push_back(Id::from_bytes(cursor.take(32)));
  uint32_t packs = cursor.u32();
  if (packs > plaintext.size() / 36) throw IntegrityError("index file is truncated");
  for (uint32_t i = 0; i < packs; ++i) {
    IndexFile::Pack pack;
    pack.id = Id::from_bytes(cursor.take(32));
    uint32_t blobs = cursor.u32();
    if (blobs > (plaintext.size() - cursor.at) / index_entry_size) throw IntegrityError("index file is truncated");
    pack.blobs.reserve(blobs);
    for (uint32_t j = 0; j < blobs; ++j) {
      const uint8_t* entry = cursor.take(index_entry_size);
      if (entry[0] > 1) throw IntegrityError("index file has an unknown blob type");
      pack.blobs.push_back({static_cast<BlobType>(entry[0]), get_u32le(entry + 1), get_u32le(entry + 5),
                            get_u32le(entry + 9), Id::from_bytes(entry + 13)});
    }
    file.packs.push_back(std::move(pack));
  }
  if (cursor.at != plaintext.size()) throw IntegrityError("index file has trailing bytes");
  return file;
}

void Index::add_pack(const Id& pack, const std::vector<PackedBlob>& blobs) {
  std::lock_guard lock(mutex_);
  auto [it, inserted] = pack_numbers_.try_emplace(pack, static_cast<uint32_t>(pack_ids_.size()));
  if (inserted) pack_ids_.push_back(pack);
  for (const PackedBlob& blob : blobs)
    blobs_.try_emplace(blob.id, Entry{it->second, blob.offset, blob.stored_length, blob.raw_length, blob.type});
}

void Index::clear() {
  std::lock_guard lock(mutex_);
  pack_ids_.clear();
  pack_numbers_.clear();
  blobs_.clear();
}

bool Index::has(const Id& blob) const {
  std::lock_guard lock(mutex_);
  return blobs_.count(blob) != 0;
}

std::optional<BlobLocation> Index::find(const Id& blob) const {
  std::lock_guard lock(mutex_);
  auto it = blobs_.find(blob);
  if (it == blobs_.end()) return std::nullopt;
  const Entry& e = it->second;
  return BlobLocation{pack_ids_[e.pack], e.offset, e.stored_length, e.raw_length, e.type};
}

size_t Index::blob_count() const {
  std::lock_guard lock(mutex_);
  return blobs_.size();
}

bool Index::has_pack(const Id& pack) const {
  std::lock_guard lock(mutex_);
  return pack_numbers_.count(pack) != 0;
}

std::vector<IndexFile::Pack> Index::packs() const {
  std::lock_guard lock(mutex_);
  std::vector<IndexFile::Pack> packs(pack_ids_.size());
  for (size_t i = 0; i < pack_ids_.size(); ++i) packs[i].id = pack_ids_[i];
  for (const auto& [id, e] : blobs_)
    packs[e.pack].blobs.push_back({e.type, e.offset, e.stored_length, e.raw_length, id});
  return packs;
}

std::unordered_map<Id, std::vector<Index::Span>, IdHash> Index::tree_spans(uint64_t max_gap, uint64_t max_length) const {
  std::vector<std::tuple<uint32_t, uint64_t, uint64_t>> trees;  // pack number, start, end
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, e] : blobs_)
      if (e.type == BlobType::tree) trees.emplace_back(e.pack, e.offset, uint64_t(e.offset) + e.stored_length);
  }
  std::sort(trees.begin(), trees.end());
  std::unordered_map<Id, std::vector<Span>, IdHash> spans;
  std::vector<Span>* of_pack = nullptr;
  uint32_t pack = UINT32_MAX;
  for (const auto& [number, start, end] : trees) {
    if (number != pack) {
      pack = number;
      std::lock_guard lock(mutex_);
      of_pack = &spans[pack_ids_[number]];
    }
    Span* last = of_pack->empty() ? nullptr : &of_pack->back();
    if (last && start - (last->offset + last->length) <= max_gap && end - last->offset <= max_length)
      last->length = end - last->offset;
    else
      of_pack->push_back({start, end - start});
  }
  return spans;
}

}  // namespace obkeep::repo
