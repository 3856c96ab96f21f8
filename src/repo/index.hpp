// The index: which pack holds each blob, in memory and as index files.
#pragma once

#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "repo/pack.hpp"
#include "util/id.hpp"

namespace obkeep::repo {

struct BlobLocation {
  Id pack;
  uint32_t offset;
  uint32_t stored_length;
  uint32_t raw_length;
  BlobType type;
};

// One index file's content: packs with their blobs, and older index files it replaces.
struct IndexFile {
  std::vector<Id> supersedes;
  struct Pack {
    Id id;
    std::vector<PackedBlob> blobs;
  };
  std::vector<Pack> packs;
};

Bytes encode_index_file(const IndexFile& file);
IndexFile decode_index_file(ByteView plaintext);  // throws IntegrityError

// The in-memory index. Entries are compact (a pack number, not its id). Thread-safe.
class Index {
 public:
  void add_pack(const Id& pack, const std::vector<PackedBlob>& blobs);
  void add_file(const IndexFile& file) {
    for (const auto& pack : file.packs) add_pack(pack.id, pack.blobs);
  }
  // Forgets every pack and blob.
  void clear();
  bool has(const Id& blob) const;
  bool has_pack(const Id& pack) const;
  std::optional<BlobLocation> find(const Id& blob) const;
  size_t blob_count() const;
  // Every pack known to the index with its blobs.
  std::vector<IndexFile::Pack> packs() const;
  // Per pack holding trees, its trees in spans, by offset: neighbouring trees with at most
  // `max_gap` bytes between them share a span of at most `max_length` (a single larger tree
  // is a span of its own).
  struct Span {
    uint64_t offset = 0, length = 0;
  };
  std::unordered_map<Id, std::vector<Span>, IdHash> tree_spans(uint64_t max_gap, uint64_t max_length) const;

 private:
  struct Entry {
    uint32_t pack;
    uint32_t offset;
    uint32_t stored_length;
    uint32_t raw_length;
    BlobType type;
  };
  mutable std::mutex mutex_;
  std::vector<Id> pack_ids_;
  std::unordered_map<Id, uint32_t, IdHash> pack_numbers_;
  std::unordered_map<Id, Entry, IdHash> blobs_;
};

}  // namespace obkeep::repo
