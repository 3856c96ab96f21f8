// Page-aligned memory in huge pages where allowed (see large_buffer.hpp).
#include "util/large_buffer.hpp"

#include <sys/mman.h>

#include <cstdlib>
#include <new>
#include <utility>

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

LargeBuffer::LargeBuffer(LargeBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)),
      capacity_(std::exchange(other.capacity_, 0)) {}

LargeBuffer& LargeBuffer::operator=(LargeBuffer&& other) noexcept {
  if (this != &other) {
    std::free(data_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    capacity_ = std::exchange(other.capacity_, 0);
  }
  return *this;
}

LargeBuffer::~LargeBuffer() { std::free(data_); }

void LargeBuffer::resize_for_overwrite(size_t size) {
  if (size > capacity_) {
    std::free(std::exchange(data_, nullptr));  // nothing to keep: the caller fills it
    size_ = capacity_ = 0;
    size_t capacity = size;
    data_ = allocate_large_buffer(capacity);
    capacity_ = capacity;
  }
  size_ = size;
}

}  // namespace obkeep
