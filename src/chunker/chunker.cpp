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

// Rolls the gear hash over data[i, end) and returns one past the first position whose hash
// meets `mask` and is not rejected, or 0. Four bytes a step: each of the four hashes is
// computed from the one before the step, so the chain through `hash` is two instructions per
// four bytes instead of two per byte; the hashes and cut points are the byte-wise ones.
template <typename Rejects>
size_t Chunker::scan(const uint8_t* data, size_t& i, size_t end, uint64_t& hash, uint64_t mask, Rejects rejects) const {
  for (; i + 4 <= end; i += 4) {
    uint64_t g0 = gear_[data[i]], g1 = gear_[data[i + 1]], g2 = gear_[data[i + 2]], g3 = gear_[data[i + 3]];
    uint64_t t1 = g0, t2 = (g0 << 1) + g1, t3 = (t2 << 1) + g2, t4 = (t3 << 1) + g3;
    uint64_t h[4] = {(hash << 1) + t1, (hash << 2) + t2, (hash << 3) + t3, (hash << 4) + t4};
    if (((h[0] & mask) == 0) | ((h[1] & mask) == 0) | ((h[2] & mask) == 0) | ((h[3] & mask) == 0)) {
      for (size_t k = 0; k < 4; ++k)
        if ((h[k] & mask) == 0 && !rejects(h[k])) {
          i += k + 1;
          hash = h[k];
          return i;
        }
    }
    hash = h[3];
  }
  for (; i < end; ++i) {
    hash = (hash << 1) + gear_[data[i]];
    if ((hash & mask) == 0 && !rejects(hash)) return ++i;
  }
  return 0;
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
  if (size_t cut = scan(data, i, normal, hash, small_mask_, recurs)) return cut;
  if (size_t cut = scan(data, i, end, hash, large_mask_, recurs)) return cut;
  return end;
}

}  // namespace obkeep
