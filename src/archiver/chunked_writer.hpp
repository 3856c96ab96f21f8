// Turns a byte stream (a file being read, a database dump) into stored data blobs.
#pragma once

#include <vector>

#include "repo/repository.hpp"
#include "util/byte_stream.hpp"
#include "util/error.hpp"

namespace obkeep::archiver {

// A failure to read the source (as opposed to a failure to store): the backup reports
// the file and goes on.
class SourceReadError : public Error {
 public:
  using Error::Error;
};

// Buffers at most 2 × the chunker's maximum chunk size; cuts content-defined chunks
// and saves each as a data blob as soon as it is complete.
class ChunkedWriter : public ByteWriter {
 public:
  // `chunker` is the repository's file chunker or its dump chunker. `reusable_buffer`, when
  // given, is used instead of a buffer of our own, so a worker thread that backs up many
  // files allocates (and page-faults) its buffer once. `effort`: how hard each chunk is
  // compressed (database dumps take the fast level: see RepositoryDumpSink).
  ChunkedWriter(repo::Repository& repository, const Chunker& chunker, Bytes* reusable_buffer = nullptr,
                repo::CompressionEffort effort = repo::CompressionEffort::standard);
  void write(ByteView data) override;
  void close() override;
  // Reads a file descriptor to its end straight into the buffer (no extra copy).
  void write_from_fd(int fd, const std::string& path_for_errors);

  const std::vector<Id>& content() const { return content_; }
  uint64_t size() const { return size_; }
  uint64_t new_bytes() const { return new_bytes_; }

 private:
  void cut(bool at_end);

  repo::Repository& repository_;
  const Chunker& chunker_;
  repo::CompressionEffort effort_;
  Bytes own_buffer_;
  Bytes& buffer_;
  size_t begin_ = 0, end_ = 0;
  std::vector<Id> content_;
  uint64_t size_ = 0;
  uint64_t new_bytes_ = 0;
};

}  // namespace obkeep::archiver
