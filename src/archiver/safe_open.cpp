// open_beneath: openat2 with a portable fallback.
#include "archiver/safe_open.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

namespace obkeep::archiver {

namespace {

int open_by_components(int root_fd, const std::string& relative, int flags, mode_t mode) {
  int directory = ::dup(root_fd);
  if (directory < 0) return -1;
  size_t start = 0;
  for (;;) {
    size_t slash = relative.find('/', start);
    std::string part = relative.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (part.empty() || part == "." || part == "..") {
      ::close(directory);
      errno = EXDEV;
      return -1;
    }
    if (slash == std::string::npos) {
      int fd = ::openat(directory, part.c_str(), flags | O_NOFOLLOW, mode);
      int saved = errno;
      ::close(directory);
      errno = saved;
      return fd;
    }
    int next = ::openat(directory, part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int saved = errno;
    ::close(directory);
    if (next < 0) {
      errno = saved;
      return -1;
    }
    directory = next;
    start = slash + 1;
  }
}

}  // namespace

int open_beneath(int root_fd, const std::string& relative, int flags, mode_t mode) {
  static std::atomic<bool> have_openat2{true};
  if (have_openat2) {
    open_how how{};
    how.flags = static_cast<uint64_t>(flags | O_NOFOLLOW);
    how.mode = (flags & O_CREAT) ? mode : 0;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    long fd = ::syscall(SYS_openat2, root_fd, relative.c_str(), &how, sizeof how);
    if (fd >= 0 || errno != ENOSYS) return static_cast<int>(fd);
    have_openat2 = false;
  }
  return open_by_components(root_fd, relative, flags, mode);
}

}  // namespace obkeep::archiver
