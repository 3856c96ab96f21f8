// Minimal streaming interfaces shared by the archiver and the database engines.
#pragma once

#include <cstddef>
#include <cstdint>

#include "util/bytes.hpp"

namespace obkeep {

// A sink of bytes: a file being stored, a dump being written.
class ByteWriter {
 public:
  virtual ~ByteWriter() = default;
  virtual void write(ByteView data) = 0;
  // Completes the stream; data is only committed after close(). Throws Error on failure.
  virtual void close() = 0;
};

// A source of bytes: a stored file being read back, a dump being restored.
class ByteReader {
 public:
  virtual ~ByteReader() = default;
  // Reads up to `capacity` bytes into `buffer`; returns 0 at the end.
  virtual size_t read(uint8_t* buffer, size_t capacity) = 0;
};

}  // namespace obkeep
