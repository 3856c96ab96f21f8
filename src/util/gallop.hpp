// Finding the end of a run of numbered objects by existence checks alone: named objects
// (archive entries) have no listing cheaper than listing everything, but "is number n there"
// is one request, so the last of a run is found in about 2·log2(run) of them.
#pragma once

#include <cstdint>
#include <functional>

namespace obkeep {

// The last number of the run that begins at `present` (which exists): the caller's
// `exists` must hold for every number from `present` up to the answer and for none just
// after it.
inline uint64_t last_present(uint64_t present, const std::function<bool(uint64_t)>& exists) {
  uint64_t step = 1, absent = 0;
  for (;;) {  // present exists; find an absent number beyond it
    if (!exists(present + step)) {
      absent = present + step;
      break;
    }
    present += step;
    step *= 2;
  }
  while (absent - present > 1) {
    uint64_t middle = present + (absent - present) / 2;
    (exists(middle) ? present : absent) = middle;
  }
  return present;
}

}  // namespace obkeep
