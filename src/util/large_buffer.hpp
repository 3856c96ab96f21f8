// Page-aligned memory for large, long-lived buffers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace obkeep {

// At least `capacity` bytes (rounded up and returned through it), page-aligned so that a
// backend may write them with O_DIRECT, and in 2 MiB pages where the kernel allows them
// (transparent huge pages "madvise" or "always") once 2 MiB or more: the first write of a
// 4 KiB page costs a fault, 12–15 µs in a virtual machine such as the one this was measured
// on, and a 22 MiB pack buffer in 4 KiB pages is 5,600 of them. Free with std::free.
// Throws std::bad_alloc.
uint8_t* allocate_large_buffer(size_t& capacity);

// Bytes in memory from allocate_large_buffer, never initialised: for a buffer that a read
// fills whole. A std::vector zeroes what it grows by, and the zeroing is the first write
// of every fresh page: in a remote restore, which fills hundreds of megabytes of ranges,
// that was a tenth of obkeep's CPU.
class LargeBuffer {
 public:
  LargeBuffer() = default;
  LargeBuffer(LargeBuffer&& other) noexcept;
  LargeBuffer& operator=(LargeBuffer&& other) noexcept;
  ~LargeBuffer();

  // Holds `size` bytes for the caller to fill: their values are unspecified (a buffer that
  // must grow takes new memory and does not keep its content).
  void resize_for_overwrite(size_t size);

  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  std::span<uint8_t> span() { return {data_, size_}; }

 private:
  uint8_t* data_ = nullptr;
  size_t size_ = 0, capacity_ = 0;
};

}  // namespace obkeep
