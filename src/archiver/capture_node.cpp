// capture_node: lstat facts, owner names, xattrs and link targets.
#include "archiver/capture_node.hpp"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <mutex>

#include "util/error.hpp"

namespace obkeep::archiver {

using repo::Node;
using repo::NodeType;

namespace {

// getpwuid/getgrgid are slow (NSS); a backup asks for the same few ids thousands of times.
std::string cached_name(uint32_t id, bool is_group) {
  static std::mutex mutex;
  static std::map<std::pair<bool, uint32_t>, std::string> cache;
  std::lock_guard lock(mutex);
  auto [it, inserted] = cache.try_emplace({is_group, id});
  if (inserted) {
    if (is_group) {
      if (group* entry = getgrgid(id)) it->second = entry->gr_name;
    } else {
      if (passwd* entry = getpwuid(id)) it->second = entry->pw_name;
    }
  }
  return it->second;
}

int64_t nanos(const timespec& time) { return int64_t(time.tv_sec) * 1000000000 + time.tv_nsec; }

NodeType type_of(mode_t mode) {
  if (S_ISREG(mode)) return NodeType::file;
  if (S_ISDIR(mode)) return NodeType::directory;
  if (S_ISLNK(mode)) return NodeType::symlink;
  if (S_ISBLK(mode)) return NodeType::block_device;
  if (S_ISCHR(mode)) return NodeType::char_device;
  if (S_ISFIFO(mode)) return NodeType::fifo;
  return NodeType::socket;
}

// xattrs through /proc/self/fd paths would follow links; l*xattr on a path built from
// the directory fd avoids that.
std::string fd_path(int directory_fd, const std::string& name) {
  return "/proc/self/fd/" + std::to_string(directory_fd) + "/" + name;
}

}  // namespace

Node capture_node(int directory_fd, const std::string& name, const struct stat& info) {
  Node node;
  node.name = name;
  node.type = type_of(info.st_mode);
  node.mode = info.st_mode & 07777;
  node.uid = info.st_uid;
  node.gid = info.st_gid;
  node.user = cached_name(info.st_uid, false);
  node.group = cached_name(info.st_gid, true);
  node.mtime_ns = nanos(info.st_mtim);
  // A directory's atime changes whenever a backup lists it; keeping it would make every
  // tree differ from the last one. Directories restore with atime = mtime.
  node.atime_ns = S_ISDIR(info.st_mode) ? nanos(info.st_mtim) : nanos(info.st_atim);
  node.ctime_ns = nanos(info.st_ctim);
  node.inode = info.st_ino;
  node.device = info.st_dev;
  node.links = info.st_nlink;
  if (node.type == NodeType::file) node.size = static_cast<uint64_t>(info.st_size);
  if (node.type == NodeType::block_device || node.type == NodeType::char_device) node.rdev = info.st_rdev;
  if (node.type == NodeType::symlink) {
    std::string target(static_cast<size_t>(info.st_size > 0 ? info.st_size : 256) + 1, '\0');
    ssize_t n = readlinkat(directory_fd, name.c_str(), target.data(), target.size());
    if (n < 0) throw_system_error("cannot read link " + name, errno);
    target.resize(static_cast<size_t>(n));
    node.link_target = target;
  }
  std::string path = fd_path(directory_fd, name);
  ssize_t list_size = llistxattr(path.c_str(), nullptr, 0);
  if (list_size > 0) {
    std::string names(static_cast<size_t>(list_size), '\0');
    list_size = llistxattr(path.c_str(), names.data(), names.size());
    for (size_t at = 0; list_size > 0 && at < static_cast<size_t>(list_size);) {
      std::string key(names.c_str() + at);
      at += key.size() + 1;
      ssize_t value_size = lgetxattr(path.c_str(), key.c_str(), nullptr, 0);
      if (value_size < 0) continue;
      Bytes value(static_cast<size_t>(value_size));
      value_size = lgetxattr(path.c_str(), key.c_str(), value.data(), value.size());
      if (value_size < 0) continue;
      value.resize(static_cast<size_t>(value_size));
      node.xattrs.emplace_back(key, std::move(value));
    }
    std::sort(node.xattrs.begin(), node.xattrs.end());
  }
  return node;
}

}  // namespace obkeep::archiver
