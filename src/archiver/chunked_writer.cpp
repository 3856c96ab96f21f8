// Streaming chunker: fill the buffer, cut whole chunks, slide the remainder down.
#include "archiver/chunked_writer.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/error.hpp"
#include "util/interrupt.hpp"

namespace obkeep::archiver {

ChunkedWriter::ChunkedWriter(repo::Repository& repository, const Chunker& chunker, Bytes* reusable_buffer,
                             repo::CompressionEffort effort)
    : repository_(repository),
      chunker_(chunker),
      effort_(effort),
      buffer_(reusable_buffer ? *reusable_buffer : own_buffer_) {}

void ChunkedWriter::cut(bool at_end) {
  const Chunker& chunker = chunker_;
  while (end_ > begin_ && (at_end || end_ - begin_ >= chunker.max_size())) {
    size_t length = chunker.next_chunk_length(buffer_.data() + begin_, end_ - begin_);
    ByteView chunk(buffer_.data() + begin_, length);
    Id id = repository_.blob_id(chunk);
    if (repository_.save_blob(repo::BlobType::data, id, chunk, effort_)) new_bytes_ += length;
    content_.push_back(id);
    begin_ += length;
  }
  if (begin_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
}

void ChunkedWriter::write(ByteView data) {
  size_t capacity = 2 * chunker_.max_size();
  if (buffer_.size() < capacity) buffer_.resize(capacity);
  size_t done = 0;
  while (done < data.size()) {
    size_t room = buffer_.size() - end_;
    size_t n = std::min(room, data.size() - done);
    std::memcpy(buffer_.data() + end_, data.data() + done, n);
    end_ += n;
    done += n;
    size_ += n;
    if (end_ == buffer_.size()) cut(false);
  }
}

void ChunkedWriter::write_from_fd(int fd, const std::string& path_for_errors) {
  size_t capacity = 2 * chunker_.max_size();
  for (;;) {
    throw_if_interrupted();
    if (end_ == buffer_.size()) {
      if (buffer_.size() < capacity) {
        // Small files only ever need a small buffer.
        buffer_.resize(std::min(capacity, std::max<size_t>(64 * 1024, buffer_.size() * 4)));
      } else {
        cut(false);
      }
    }
    ssize_t n = ::read(fd, buffer_.data() + end_, buffer_.size() - end_);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw SourceReadError("cannot read " + path_for_errors + ": " + std::strerror(errno));
    }
    if (n == 0) break;
    end_ += static_cast<size_t>(n);
    size_ += static_cast<uint64_t>(n);
  }
}

void ChunkedWriter::close() { cut(true); }

}  // namespace obkeep::archiver
