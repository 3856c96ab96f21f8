// Content-defined chunking (FastCDC with normalized chunking and a keyed gear table).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "util/bytes.hpp"

namespace obkeep {

struct ChunkerParams {
  uint32_t min_size = 512 * 1024;
  uint32_t average_size = 1024 * 1024;  // a power of two
  uint32_t max_size = 4 * 1024 * 1024;
  std::array<uint8_t, 32> seed{};       // per repository, so cut points do not reveal content
};

// Database dumps change by scattered rows, so they are cut finer than file data: a changed
// row costs a 256 KiB chunk instead of a 1 MiB one. Same seed as the file chunker.
inline ChunkerParams dump_chunker_params(const ChunkerParams& file_params) {
  ChunkerParams params = file_params;
  params.min_size = 64 * 1024;
  params.average_size = 256 * 1024;
  params.max_size = 1024 * 1024;
  return params;
}

// Finds cut points. Stateless between chunks, thread-safe, cheap to copy.
class Chunker {
 public:
  explicit Chunker(const ChunkerParams& params);

  // Length of the chunk that starts at data[0]. The caller passes at least max_size()
  // bytes unless the input ends sooner; then the whole rest may be one chunk.
  size_t next_chunk_length(const uint8_t* data, size_t available) const;

  size_t max_size() const { return params_.max_size; }
  // How far before the minimum size the hash starts, to find windows that recur.
  static constexpr size_t lookback = 16 * 1024;
  const ChunkerParams& params() const { return params_; }

 private:
  template <typename Rejects>
  size_t scan(const uint8_t* data, size_t& i, size_t end, uint64_t& hash, uint64_t mask, Rejects rejects) const;
  ChunkerParams params_;
  uint64_t small_mask_;  // more bits: cuts are rarer before the average size
  uint64_t large_mask_;  // fewer bits: cuts are likelier after it
  std::array<uint64_t, 256> gear_;
};

}  // namespace obkeep
