// Page-aligned memory for large, long-lived buffers.
#pragma once

#include <cstddef>
#include <cstdint>

#include "util/bytes.hpp"

namespace obkeep {

// At least `capacity` bytes (rounded up and returned through it), page-aligned so that a
// backend may write them with O_DIRECT, and in 2 MiB pages where the kernel allows them
// (transparent huge pages "madvise" or "always") once 2 MiB or more: the first write of a
// 4 KiB page costs a fault, 12–15 µs in a virtual machine such as the one this was measured
// on, and a 22 MiB pack buffer in 4 KiB pages is 5,600 of them. Free with std::free.
// Throws std::bad_alloc.
uint8_t* allocate_large_buffer(size_t& capacity);

// Makes `buffer` hold `size` bytes for the caller to fill: their values are unspecified (a
// buffer that must grow does not keep its content). Memory taken anew is advised into huge
// pages before it is first written, as far as whole 2 MiB pages fit in it.
void resize_large(Bytes& buffer, size_t size);

}  // namespace obkeep
