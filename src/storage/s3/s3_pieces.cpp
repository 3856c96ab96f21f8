// Cutting a transfer into nearly equal pieces.
#include "storage/s3/s3_pieces.hpp"

#include <algorithm>

namespace obkeep::storage {

std::vector<Piece> split_into_pieces(uint64_t size, uint64_t min_length, uint64_t max_count) {
  uint64_t count = min_length == 0 ? 1 : size / min_length;
  count = std::clamp<uint64_t>(count, 1, std::max<uint64_t>(max_count, 1));
  // The first `size % count` pieces get one byte more: every piece is at least
  // size / count >= min_length bytes long.
  uint64_t base = size / count, longer = size % count;
  std::vector<Piece> pieces;
  pieces.reserve(count);
  uint64_t offset = 0;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t length = base + (i < longer ? 1 : 0);
    pieces.push_back({offset, length});
    offset += length;
  }
  return pieces;
}

}  // namespace obkeep::storage
