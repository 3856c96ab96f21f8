// Reads the stored bytes of a set of blobs with one read per run of neighbouring blobs in
// a pack. A restore of small files would otherwise pay one disk read, with its seek and
// latency, per file; the backup wrote neighbouring files into neighbouring pack space, so
// a batch of them is usually a few contiguous stretches of one or two packs.
#pragma once

#include <functional>
#include <span>
#include <vector>

#include "repo/blob_source.hpp"
#include "repo/repository.hpp"

namespace obkeep::repo {

class BlobPrefetch : public BlobSource {
 public:
  // Blobs closer than this in a pack are read together, with the bytes between them.
  static constexpr uint64_t max_gap = 64 * 1024;
  // No single read is longer than this.
  static constexpr uint64_t max_run = 4 * 1024 * 1024;

  // Reads the blobs at `wanted` (in any order, duplicates allowed) right away. A run that
  // cannot be read is left out: load_into then reads its blobs one by one.
  BlobPrefetch(Repository& repository, std::vector<BlobLocation> wanted);

  // Opens and verifies a blob into `out` from the bytes read ahead, or reads it now when it
  // was not among `wanted`. Throws IntegrityError like Repository::load_blob_into.
  void load_into(const Id& id, const BlobLocation& location, std::span<uint8_t> out) override;
  // Calls `use` with the blob's stored (sealed) bytes, from what was read ahead or read now.
  void read_sealed(const BlobLocation& location, const std::function<void(ByteView)>& use);

 private:
  struct Run {
    Id pack;
    uint64_t offset;
    Bytes bytes;
  };
  const Run* run_holding(const BlobLocation& location) const;

  Repository& repository_;
  std::vector<Run> runs_;
};

}  // namespace obkeep::repo
