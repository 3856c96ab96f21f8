// Tuning of the C library's allocator for obkeep's many worker threads.
#pragma once

namespace obkeep {

// glibc gives each thread that allocates its own arena (up to eight per core), and memory
// freed in one arena is not reused by another: a backup's dozen threads each kept their
// own high-water mark (a 1% change of a 10 GB tree peaked at 284 MB, with two arenas at
// 230 MB, no slower). Two arenas, unless MALLOC_ARENA_MAX is set.
void limit_allocator_arenas();

}  // namespace obkeep
