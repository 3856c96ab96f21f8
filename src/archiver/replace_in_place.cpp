// Staging, verification and the atomic swap (renameat2 RENAME_EXCHANGE): at every instant
// `path` is either the complete old tree or the complete new one.
#include "archiver/replace_in_place.hpp"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "repo/tree.hpp"
#include "util/error.hpp"
#include "util/host.hpp"

namespace obkeep::archiver {

namespace fs = std::filesystem;

repo::Node find_node(repo::Repository& repository, const repo::Snapshot& snapshot, const std::string& path) {
  repo::Node node;
  node.type = repo::NodeType::directory;
  node.subtree = snapshot.tree;
  for (const auto& part : fs::path(path)) {
    std::string name = part.string();
    if (name.empty() || name == "/") continue;
    if (!node.subtree) throw Error("snapshot " + snapshot.id.short_hex() + " does not hold " + path);
    repo::Tree tree = repo::load_tree(repository, *node.subtree);
    const repo::Node* child = tree.find(name);
    if (!child) throw Error("snapshot " + snapshot.id.short_hex() + " does not hold " + path);
    node = *child;
  }
  if (node.type != repo::NodeType::directory) throw Error(path + " is not a directory in snapshot " + snapshot.id.short_hex());
  return node;
}

namespace {

std::string utc_stamp() {
  std::string time = format_rfc3339(now_unix_nanos()).substr(0, 19);
  for (char& c : time)
    if (c == ':') c = '-';
  return time;
}

void fsync_path(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

ReplaceResult replace_in_place(repo::Repository& repository, const repo::Snapshot& snapshot, const std::string& path) {
  repo::Node node = find_node(repository, snapshot, path);
  fs::path target(path);
  fs::path parent = target.parent_path();
  std::string name = target.filename().string();
  std::string stamp = utc_stamp();
  fs::path staging = parent / ("." + name + ".obkeep-staging-" + stamp);
  fs::path rollback = parent / (name + ".obkeep-rollback-" + stamp);
  std::error_code error;
  fs::create_directories(parent, error);
  if (fs::exists(staging)) throw Error("staging directory already exists: " + staging.string());

  ReplaceResult result;
  RestoreOptions options;
  options.target = staging.string();
  options.verify = true;
  options.target_metadata = node;
  try {
    fs::create_directory(staging);
    result.restore = restore_tree(repository, *node.subtree, options, nullptr);
  } catch (...) {
    fs::remove_all(staging, error);
    throw;
  }
  if (!result.restore.errors.empty()) {
    fs::remove_all(staging, error);
    throw Error(std::to_string(result.restore.errors.size()) + " files of " + path + " could not be restored or verified (first: " +
                result.restore.errors.front() + "); " + path + " was left untouched");
  }
  // Everything restored must be on disk before the swap makes it the live tree.
  int fd = ::open(staging.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    syncfs(fd);
    ::close(fd);
  }
  if (!fs::exists(target, error)) {
    if (::rename(staging.c_str(), target.c_str()) != 0) throw_system_error("cannot move " + staging.string() + " into place", errno);
  } else {
    long swapped = ::syscall(SYS_renameat2, AT_FDCWD, staging.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE);
    if (swapped != 0) {
      if (errno != EINVAL && errno != ENOSYS) throw_system_error("cannot swap " + staging.string() + " and " + path, errno);
      // No atomic exchange on this file system: two renames, old tree first.
      if (::rename(target.c_str(), rollback.c_str()) != 0) throw_system_error("cannot move " + path + " aside", errno);
      if (::rename(staging.c_str(), target.c_str()) != 0) throw_system_error("cannot move " + staging.string() + " into place", errno);
    } else if (::rename(staging.c_str(), rollback.c_str()) != 0) {
      throw_system_error("swapped in the new " + path + " but cannot rename the old tree at " + staging.string(), errno);
    }
    result.rollback = rollback.string();
  }
  fsync_path(parent);
  return result;
}

}  // namespace obkeep::archiver
