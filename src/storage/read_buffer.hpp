// The per-thread buffer a backend's read() hands to its caller: reused, so a read neither
// allocates nor zeroes memory once the thread has seen its largest read.
#pragma once

#include <cstddef>
#include <cstdint>

namespace obkeep::storage {

// At least `length` bytes, valid until this thread's next call.
uint8_t* thread_read_buffer(size_t length);

}  // namespace obkeep::storage
