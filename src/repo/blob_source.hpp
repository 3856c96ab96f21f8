// Where a restore's writers get a blob's plaintext from: read ahead in runs (BlobPrefetch,
// PackReadAhead) or straight from the repository.
#pragma once

#include <span>

#include "repo/index.hpp"
#include "util/id.hpp"

namespace obkeep::repo {

class BlobSource {
 public:
  virtual ~BlobSource() = default;
  // Opens and verifies the blob into `out` (exactly `location.raw_length` bytes). Throws
  // IntegrityError like Repository::load_blob_into.
  virtual void load_into(const Id& id, const BlobLocation& location, std::span<uint8_t> out) = 0;
};

}  // namespace obkeep::repo
