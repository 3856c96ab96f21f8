// Writing an uploaded object through a temporary, and placing it without overwriting.
#include "storage/serve/serve_upload.hpp"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "crypto/aead.hpp"
#include "storage/local/local_backend.hpp"
#include "util/error.hpp"

namespace obkeep::storage::serve {

namespace fs = std::filesystem;

namespace {

// Renames without replacing: renameat2 where the file system has it, else link + unlink
// (also atomic: link fails on an existing name). False when `to` exists.
bool rename_no_replace(const fs::path& from, const fs::path& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return true;
  if (errno == EEXIST) return false;
  if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
    throw_system_error("cannot rename " + from.string() + " to " + to.string(), errno);
  if (::link(from.c_str(), to.c_str()) != 0) {
    if (errno == EEXIST) return false;
    throw_system_error("cannot link " + from.string() + " to " + to.string(), errno);
  }
  ::unlink(from.c_str());
  return true;
}

bool same_contents(const fs::path& a, const fs::path& b) {
  int first = ::open(a.c_str(), O_RDONLY | O_CLOEXEC);
  if (first < 0) throw_system_error("cannot open " + a.string(), errno);
  int second = ::open(b.c_str(), O_RDONLY | O_CLOEXEC);
  if (second < 0) {
    int saved = errno;
    ::close(first);
    throw_system_error("cannot open " + b.string(), saved);
  }
  struct Closer {
    int a, b;
    ~Closer() { ::close(a), ::close(b); }
  } closer{first, second};
  Bytes left(1 << 20), right(1 << 20);
  for (;;) {
    ssize_t n = ::read(first, left.data(), left.size());
    if (n < 0) throw_system_error("cannot read " + a.string(), errno);
    size_t have = 0;
    while (have < static_cast<size_t>(n)) {
      ssize_t m = ::read(second, right.data() + have, static_cast<size_t>(n) - have);
      if (m < 0) throw_system_error("cannot read " + b.string(), errno);
      if (m == 0) return false;
      have += static_cast<size_t>(m);
    }
    if (std::memcmp(left.data(), right.data(), have) != 0) return false;
    if (n == 0) {
      char extra;
      return ::read(second, &extra, 1) == 0;
    }
  }
}

}  // namespace

ServeUpload::ServeUpload(const fs::path& target, uint64_t size) : target_(target), size_(size) {
  uint8_t random[8];
  crypto::random_bytes(random, sizeof random);
  temporary_ = target.parent_path() / (".tmp-" + to_hex(ByteView(random, sizeof random)));
  fd_ = ::open(temporary_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
  if (fd_ < 0 && errno == ENOENT && create_missing_folder(target.parent_path()))  // copies/, journal/, archive/ of an older repository
    fd_ = ::open(temporary_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
  if (fd_ < 0) throw_system_error("cannot create " + temporary_.string(), errno);
}

ServeUpload::~ServeUpload() {
  if (fd_ >= 0) ::close(fd_);
  if (!placed_) ::unlink(temporary_.c_str());
}

void ServeUpload::append(ByteView piece) {
  if (piece.size() > remaining())
    throw Error("more data than announced for " + target_.filename().string() + " (" + std::to_string(size_) + " bytes)");
  size_t done = 0;
  while (done < piece.size()) {
    ssize_t n = ::write(fd_, piece.data() + done, piece.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_system_error("cannot write " + temporary_.string(), errno);
    }
    done += static_cast<size_t>(n);
  }
  received_ += piece.size();
}

ServeUpload::Placed ServeUpload::place(bool no_replace) {
  if (::fsync(fd_) != 0) throw_system_error("cannot fsync " + temporary_.string(), errno);
  ::close(fd_);
  fd_ = -1;
  Placed result = Placed::written;
  if (!no_replace) {
    // Names are content ids (or unique lock ids): a rename over a name replaces the same bytes.
    if (::rename(temporary_.c_str(), target_.c_str()) != 0)
      throw_system_error("cannot rename " + temporary_.string() + " to " + target_.string(), errno);
  } else if (!rename_no_replace(temporary_, target_)) {
    return same_contents(temporary_, target_) ? Placed::identical : Placed::differs;  // ours is removed
  }
  placed_ = true;
  fsync_directory(target_.parent_path());
  return result;
}

}  // namespace obkeep::storage::serve
