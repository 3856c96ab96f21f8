#include "archiver/content_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "util/error.hpp"
#include "util/large_buffer.hpp"

namespace obkeep::archiver {

namespace {

constexpr size_t page = 4096;

// One per thread, reused for every file: large enough for two maximal chunks (4 MiB each),
// so reserve() only ever needs to write out what is already staged.
struct StagingBuffer {
  static constexpr size_t capacity = 8 * 1024 * 1024 + page;
  size_t allocated = capacity;
  uint8_t* data = allocate_large_buffer(allocated);
  ~StagingBuffer() { std::free(data); }
};

uint8_t* staging_buffer() {
  thread_local StagingBuffer buffer;
  return buffer.data;
}

bool zero_page(const uint8_t* data) {
  static const uint8_t zeros[page] = {};
  return std::memcmp(data, zeros, page) == 0;
}

}  // namespace

ContentWriter::ContentWriter(int fd, std::string name, bool direct)
    : fd_(fd), name_(std::move(name)), buffer_(staging_buffer()) {
  if (direct) {
    int flags = ::fcntl(fd_, F_GETFL);
    direct_ = flags >= 0 && ::fcntl(fd_, F_SETFL, flags | O_DIRECT) == 0;
  }
}

uint8_t* ContentWriter::reserve(size_t size) {
  if (size > StagingBuffer::capacity - page) throw Error("chunk of " + std::to_string(size) + " bytes is too large");
  if (fill_ + size > StagingBuffer::capacity) flush(fill_ / page * page);
  return buffer_ + fill_;
}

void ContentWriter::commit(size_t size) { fill_ += size; }

void ContentWriter::finish() {
  if (direct_) flush(fill_ / page * page);
  if (fill_ > 0) {  // the last partial page cannot go through O_DIRECT
    stop_direct();
    flush(fill_);
  }
  // Only a file that ends in a hole is shorter than its content so far.
  if (written_end_ < flushed_ && ::ftruncate(fd_, static_cast<off_t>(flushed_)) != 0)
    throw_system_error("cannot size " + name_, errno);
}

// Writes the first `length` staged bytes (whole pages unless it is the end of the file),
// leaving zero pages as holes, and moves the remainder to the front of the buffer.
void ContentWriter::flush(size_t length) {
  size_t at = 0;
  while (at < length) {
    size_t n = std::min(page, length - at);
    if (n == page && zero_page(buffer_ + at)) {
      at += n;
      continue;
    }
    size_t run = n;
    while (at + run < length) {
      size_t next = std::min(page, length - at - run);
      if (next == page && zero_page(buffer_ + at + run)) break;
      run += next;
    }
    write_run(buffer_ + at, run, flushed_ + at);
    at += run;
  }
  std::memmove(buffer_, buffer_ + length, fill_ - length);
  fill_ -= length;
  flushed_ += length;
}

void ContentWriter::write_run(const uint8_t* data, size_t length, uint64_t offset) {
  for (size_t done = 0; done < length;) {
    ssize_t w = ::pwrite(fd_, data + done, length - done, static_cast<off_t>(offset + done));
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EINVAL && direct_) {  // O_DIRECT accepted at open, refused on write
      stop_direct();
      continue;
    }
    if (w < 0) throw_system_error("cannot write " + name_, errno);
    done += static_cast<size_t>(w);
  }
  written_end_ = offset + length;
}

void ContentWriter::stop_direct() {
  if (!direct_) return;
  int flags = ::fcntl(fd_, F_GETFL);
  if (flags < 0 || ::fcntl(fd_, F_SETFL, flags & ~O_DIRECT) != 0) throw_system_error("cannot write " + name_, errno);
  direct_ = false;
}

}  // namespace obkeep::archiver
