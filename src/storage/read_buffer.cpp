#include "storage/read_buffer.hpp"

#include <memory>

namespace obkeep::storage {

uint8_t* thread_read_buffer(size_t length) {
  thread_local std::unique_ptr<uint8_t[]> buffer;
  thread_local size_t capacity = 0;
  if (capacity < length) {
    buffer.reset();  // the old buffer first: peak memory is one buffer
    buffer.reset(new uint8_t[length]);
    capacity = length;
  }
  return buffer.get();
}

}  // namespace obkeep::storage
