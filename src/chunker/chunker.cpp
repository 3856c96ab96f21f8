// FastCDC: gear rolling hash, cut-point skipping below the minimum, two masks around the
// average (normalized chunking, level 2), following Xia et al. (USENIX ATC 2016).
#include "chunker/chunker.hpp"

#include <algorithm>
#include <bit>

#include "crypto/hash.hpp"
#include "util/error.hpp"

namespace obkeep {

Chunker::Chunker(const ChunkerParams& params) : params_(params) {
  if (!std::has_single_bit(params.average_size) || params.min_size == 0 || params.min_size >= params.average_size ||
      params.average_size >= params.max_size)
    throw Error("invalid chunker parameters");
  int bits = std::countr_zero(params.average_size);
  // The gear hash shifts left, so its top bits mix the most recent 64 bytes best.
  small_mask_ = ~uint64_t{0} << (64 - (bits + 2));
  large_mask_ = ~uint64_t{0} << (64 - (bits - 2));
  for (uint32_t i = 0; i < 256; ++i) {
    Bytes input(params.seed.begin(), params.seed.end());
    put_u32le(input, i);
    Id digest = crypto::sha256(input);
    gear_[i] = get_u64le(digest.bytes.data());
  }
}

size_t Chunker::next_chunk_length(const uint8_t* data, size_t available) const {
  if (available <= params_.min_size) return available;
  size_t end = available < params_.max_size ? available : params_.max_size;
  size_t normal = end < params_.average_size ? end : params_.average_size;
  // The window hashes of the last bytes before the minimum that would have been cut points:
  // one that recurs past the minimum is a repeated window (a template every row shares), and
  // cutting there would chain each cut to the previous one.
  std::array<uint64_t, 16> recurring;
  size_t recurring_count = 0;
  auto recurs = [&](uint64_t hash) {
    for (size_t k = 0; k < recurring_count; ++k)
      if (recurring[k] == hash) return true;
    return false;
  };
  uint64_t hash = 0;
  size_t i = params_.min_size - std::min<size_t>(params_.min_size, lookback);
  for (; i < params_.min_size; ++i) {
    hash = (hash << 1) + gear_[data[i]];
    if ((hash & large_mask_) == 0 && recurring_count < recurring.size() && !recurs(hash))
      recurring[recurring_count++] = hash;
  }
  for (; i < normal; ++i) {
    hash = (hash << 1) + gear_[data[i]];
    if ((hash & small_mask_) == 0 && !recurs(hash)) return i + 1;
  }
  for (; i < end; ++i) {
    hash = (hash << 1) + gear_[data[i]];
    if ((hash & large_mask_) == 0 && !recurs(hash)) return i + 1;
  }
  return end;
}

}  // namespace obkeep
