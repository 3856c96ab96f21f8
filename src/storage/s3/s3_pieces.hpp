// How a large transfer is cut into pieces sent at once: the parts of a multipart upload,
// the ranges of a parallel read.
#pragma once

#include <cstdint>
#include <vector>

namespace obkeep::storage {

struct Piece {
  uint64_t offset;
  uint64_t length;
};

// Cuts `size` bytes into consecutive pieces of nearly equal length (they differ by at most
// one byte), as many as fit at `min_length` each but at most `max_count`; one piece when
// `size` is below 2 * `min_length`. S3 wants every part but the last at least 5 MiB, and at
// most 10,000 parts.
std::vector<Piece> split_into_pieces(uint64_t size, uint64_t min_length, uint64_t max_count);

}  // namespace obkeep::storage
