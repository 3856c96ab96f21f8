// Writes a restored file's content front to back through a page-aligned staging buffer:
// whole zero pages become holes (sparse files stay sparse), and a large file goes to the
// disk with O_DIRECT, so the restore neither copies its data into the page cache nor
// leaves gigabytes of dirty pages for the kernel's writeback to compete with.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace obkeep::archiver {

class ContentWriter {
 public:
  // `fd` is open for writing and empty; `direct` asks for O_DIRECT (silently not used where
  // the file system refuses it). `name` is for error messages.
  ContentWriter(int fd, std::string name, bool direct);
  ContentWriter(const ContentWriter&) = delete;
  ContentWriter& operator=(const ContentWriter&) = delete;

  // Memory for the next `size` bytes of content, valid until commit().
  uint8_t* reserve(size_t size);
  void commit(size_t size);
  // Writes what is staged and sets the file's length. Throws Error on a failed write.
  void finish();
  uint64_t size() const { return flushed_ + fill_; }

 private:
  void flush(size_t length);
  void write_run(const uint8_t* data, size_t length, uint64_t offset);
  void stop_direct();

  int fd_;
  std::string name_;
  bool direct_ = false;
  uint8_t* buffer_;   // the thread's staging buffer
  size_t fill_ = 0;   // staged bytes not yet written
  uint64_t flushed_ = 0;  // file offset of buffer_[0]
  uint64_t written_end_ = 0;  // end of the last run written: beyond it, a hole or nothing
};

}  // namespace obkeep::archiver
