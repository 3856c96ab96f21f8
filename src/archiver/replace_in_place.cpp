// Staging, verification and the atomic swap (renameat2 RENAME_EXCHANGE): at every instant
// `path` is either the complete old tree or the complete new one.
#include "archiver/replace_in_place.hpp"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>

#include "archiver/exclude.hpp"
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

// Links `from` (a file, symlink or directory tree) to `to`; copies where a link is refused.
void link_tree(const fs::path& from, const fs::path& to) {
  struct stat info {};
  if (::lstat(from.c_str(), &info) != 0) throw_system_error("cannot read " + from.string(), errno);
  if (S_ISDIR(info.st_mode)) {
    if (::mkdir(to.c_str(), info.st_mode & 07777) != 0 && errno != EEXIST)
      throw_system_error("cannot create " + to.string(), errno);
    for (const auto& entry : fs::directory_iterator(from)) link_tree(entry.path(), to / entry.path().filename());
    return;
  }
  if (::linkat(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), 0) == 0) return;
  std::error_code error;
  fs::copy(from, to, fs::copy_options::copy_symlinks, error);
  if (error) throw Error("cannot keep " + from.string() + ": " + error.message());
}

// What the snapshot deliberately left out (H2 database files, logs an operator excluded)
// is not lost by the swap: the current copies are linked into the staged tree.
size_t keep_excluded(const fs::path& current, const fs::path& staging, const std::vector<std::string>& excludes) {
  if (excludes.empty() || !fs::is_directory(current)) return 0;
  size_t kept = 0;
  std::map<std::string, struct stat> touched;  // staged directories whose restored times must stay
  for (auto it = fs::recursive_directory_iterator(current); it != fs::recursive_directory_iterator(); ++it) {
    const fs::path& path = it->path();
    if (!is_excluded(excludes, path.string(), path.filename().string())) continue;
    it.disable_recursion_pending();  // an excluded directory is kept whole
    fs::path destination = staging / fs::relative(path, current);
    if (fs::exists(fs::symlink_status(destination))) continue;
    fs::create_directories(destination.parent_path());
    struct stat parent {};
    if (::lstat(destination.parent_path().c_str(), &parent) == 0) touched.emplace(destination.parent_path(), parent);
    link_tree(path, destination);
    ++kept;
  }
  for (const auto& [directory, info] : touched) {
    const struct timespec times[2] = {info.st_atim, info.st_mtim};
    ::utimensat(AT_FDCWD, directory.c_str(), times, AT_SYMLINK_NOFOLLOW);
  }
  return kept;
}

}  // namespace

ReplaceResult replace_in_place(repo::Repository& repository, const repo::Snapshot& snapshot, const std::string& path) {
  repo::Node node = find_node(repository, snapshot, path);
  fs::path target(path);
  fs::path parent = target.parent_path();
  std::string name = target.filename().string();
  std::string stamp = utc_stamp();
  // The pid keeps two restores in one second apart; a run killed before the swap leaves its
  // staging directory, which holds nothing the live tree needs.
  fs::path staging = parent / ("." + name + ".obkeep-staging-" + stamp + "-" + std::to_string(::getpid()));
  fs::path rollback = parent / (name + ".obkeep-rollback-" + stamp);
  for (int n = 2; fs::exists(fs::symlink_status(rollback)); ++n)  // two restores in one second
    rollback = parent / (name + ".obkeep-rollback-" + stamp + "." + std::to_string(n));
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
    if (result.restore.errors.empty()) result.kept_excluded = keep_excluded(target, staging, snapshot.excludes);
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
