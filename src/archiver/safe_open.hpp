// Opening paths strictly beneath a directory, never through a symlink: what keeps a
// restore inside its target whatever a snapshot contains.
#pragma once

#include <sys/types.h>

#include <string>

namespace obkeep::archiver {

// openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) relative to `root_fd`, with a
// component-by-component O_NOFOLLOW walk where the kernel lacks openat2. Returns -1 and
// sets errno like open().
int open_beneath(int root_fd, const std::string& relative, int flags, mode_t mode = 0);

}  // namespace obkeep::archiver
