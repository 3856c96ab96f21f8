// Tuning of the C library's allocator (see allocator.hpp).
#include "util/allocator.hpp"

#include <malloc.h>

#include <cstdlib>

namespace obkeep {

void limit_allocator_arenas() {
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) mallopt(M_ARENA_MAX, 2);
}

}  // namespace obkeep
