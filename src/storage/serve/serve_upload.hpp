// One object a client is saving through obkeep serve: its bytes go to a temporary file
// beside the target as the pieces arrive, so a session holds at most one piece in memory.
#pragma once

#include <filesystem>
#include <string>

#include "storage/backend.hpp"

namespace obkeep::storage::serve {

class ServeUpload {
 public:
  // Creates `.tmp-<random>` in the target's folder. Throws Error naming it.
  ServeUpload(const std::filesystem::path& target, uint64_t size);
  // Removes the temporary unless it was placed.
  ~ServeUpload();
  ServeUpload(const ServeUpload&) = delete;
  ServeUpload& operator=(const ServeUpload&) = delete;

  // Appends a piece; throws Error when it goes past the announced size or a write fails.
  void append(ByteView piece);
  uint64_t remaining() const { return size_ - received_; }

  enum class Placed { written, identical, differs };
  // Fsyncs the temporary and renames it to the target. With `no_replace` (append-only), an
  // existing target is never replaced: when its bytes equal ours the save succeeded before
  // (a retry after a lost connection) and is `identical`; otherwise it `differs` and is
  // kept as it is. Throws Error when the file system fails.
  Placed place(bool no_replace);

 private:
  std::filesystem::path target_, temporary_;
  uint64_t size_, received_ = 0;
  int fd_ = -1;
  bool placed_ = false;
};

}  // namespace obkeep::storage::serve
