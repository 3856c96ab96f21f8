// Page-aligned memory in huge pages where allowed (see large_buffer.hpp).
#include "util/large_buffer.hpp"

#include <sys/mman.h>

#include <cstdlib>
#include <new>

namespace obkeep {

namespace {
constexpr size_t page = 4096;
constexpr size_t huge_page = 2 * 1024 * 1024;
}  // namespace

uint8_t* allocate_large_buffer(size_t& capacity) {
  size_t alignment = capacity >= huge_page ? huge_page : page;
  capacity = (capacity + alignment - 1) / alignment * alignment;
  auto* data = static_cast<uint8_t*>(std::aligned_alloc(alignment, capacity));
  if (!data) throw std::bad_alloc();
  if (alignment == huge_page) madvise(data, capacity, MADV_HUGEPAGE);  // advice: where refused, 4 KiB pages
  return data;
}

void resize_large(Bytes& buffer, size_t size) {
  if (buffer.capacity() < size) {
    buffer.clear();  // nothing to copy into the new memory
    buffer.reserve(size);
    auto start = reinterpret_cast<uintptr_t>(buffer.data());
    uintptr_t first = (start + huge_page - 1) / huge_page * huge_page, end = (start + size) / huge_page * huge_page;
    if (end > first) madvise(reinterpret_cast<void*>(first), end - first, MADV_HUGEPAGE);
  }
  buffer.resize(size);
}

}  // namespace obkeep
