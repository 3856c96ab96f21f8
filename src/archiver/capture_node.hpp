// Reading one file-system entry's metadata into a Node.
#pragma once

#include <string>

#include "repo/node.hpp"

struct stat;

namespace obkeep::archiver {

// Metadata of `name` in the directory `directory_fd` (lstat'ed into `info`), including
// xattrs and the link target; content and subtree are left empty.
repo::Node capture_node(int directory_fd, const std::string& name, const struct stat& info);

}  // namespace obkeep::archiver
