// The restorer: directories first (walker thread), file contents in parallel, then hard
// links, then directory metadata deepest first (so writing children does not disturb
// the parents' times and read-only directories are still writable while filled).
// Every path is opened beneath the target without following symlinks.
#include "archiver/restore.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <deque>
#include <map>
#include <unordered_set>
#include <mutex>

#include "archiver/content_writer.hpp"
#include "archiver/restore_queue.hpp"
#include "archiver/safe_open.hpp"
#include "repo/blob_prefetch.hpp"
#include "repo/pack_read_ahead.hpp"
#include "repo/tree.hpp"
#include "repo/tree_read_ahead.hpp"
#include "util/error.hpp"
#include "util/interrupt.hpp"
#include "util/thread_pool.hpp"

namespace obkeep::archiver {

using repo::load_tree;
using repo::Node;
using repo::NodeType;
using repo::save_tree;
using repo::Tree;

namespace {

// Files from this size on are written with O_DIRECT and queued as large work (RestoreQueue);
// smaller ones go through the page cache, where the kernel can batch them.
constexpr uint64_t direct_write_threshold = 1024 * 1024;
// The walk runs this many batches of small files ahead of the workers (at most 32 MiB of
// content and some 32,000 nodes): far enough to find the large files to mix in early.
constexpr size_t small_batches_queued = 1024;
// Larger files read ahead of themselves, this far, as they are written.
constexpr uint64_t huge_file = 64 * 1024 * 1024;
constexpr uint64_t huge_file_read_ahead = 32 * 1024 * 1024;

timespec to_timespec(int64_t nanos) {
  timespec time;
  time.tv_sec = nanos / 1000000000;
  time.tv_nsec = nanos % 1000000000;
  if (time.tv_nsec < 0) {
    time.tv_nsec += 1000000000;
    time.tv_sec -= 1;
  }
  return time;
}

std::string join(const std::string& parent, const std::string& name) {
  return parent.empty() ? name : parent + "/" + name;
}

class Restorer {
 public:
  Restorer(repo::Repository& repository, const RestoreOptions& options, RestoreProgress* progress)
      : repository_(repository),
        options_(options),
        progress_(progress),
        as_root_(geteuid() == 0),
        // Two per core: while one waits for the disk, the other decrypts and writes; up to
        // one per core on large files.
        queue_(options.workers ? options.workers : 2 * ThreadPool::default_workers(), ThreadPool::default_workers(),
               small_batches_queued) {}

  RestoreResult run(const Id& tree);

 private:
  bool selected(const std::string& absolute, bool is_directory) const;
  void walk(const Id& tree, const std::string& relative, size_t depth);
  void restore_node(const Node& node, const std::string& relative);
  // The directory a worker's previous file went into, kept open for the next: files of a
  // batch are mostly neighbours.
  struct OpenDirectory {
    std::string path;
    int fd = -1;
    ~OpenDirectory() {
      if (fd >= 0) ::close(fd);
    }
  };
  void restore_batch(const std::vector<std::pair<Node, std::string>>& files);
  void restore_file(const Node& node, const std::string& relative, repo::BlobSource& blobs, OpenDirectory& directory);
  // `announced`: the walk announced the file's blobs to the read-ahead.
  void write_content(int fd, const Node& node, const std::string& relative, repo::BlobSource& blobs, bool announced);
  // Tells the read-ahead (remote stores) which blobs the file will read.
  void announce(const Node& node, const std::string& relative);
  bool verify_file(const Node& node, const std::string& relative);
  // A file already in the target with the snapshot's content (a restore run again after a
  // cut, or into an older copy): kept, with the snapshot's metadata set. Only directories
  // that existed before the restore are looked in; a new one holds nothing yet.
  bool keep_existing(const Node& node, const std::string& relative, int parent, const std::string& name);
  bool may_hold_files(const std::string& relative);
  // Whether keep_existing may keep the file: something of its size is at its path. The walk
  // does not read such files ahead (their content may not be needed), and only their
  // writers look closer.
  bool may_keep(const Node& node, const std::string& relative);
  void apply_metadata(int fd, const Node& node, const std::string& relative);
  void apply_symlink_metadata(const Node& node, const std::string& relative);
  int open_parent(const std::string& relative, std::string& name);
  int open_parent(const std::string& relative, std::string& name, OpenDirectory& directory);
  void error(const std::string& message) {
    std::lock_guard lock(mutex_);
    result_.errors.push_back(message);
  }
  // An error of the target file system at `message`: full, out of inodes, over quota or
  // read-only ends the restore with this one line, since every later file would fail the
  // same way; any other costs this entry only.
  void target_error(const std::string& message, int error_number) {
    std::string text = message + ": " + std::strerror(error_number);
    if (error_number == ENOSPC || error_number == EDQUOT || error_number == EROFS) {
      stopping_ = true;
      throw Error(text + " (the restore target can take no more; restore stopped)");
    }
    error(text);
  }
  void warn(const std::string& message) {
    std::lock_guard lock(mutex_);
    result_.warnings.push_back(message);
  }

  repo::Repository& repository_;
  const RestoreOptions& options_;
  RestoreProgress* progress_;
  bool as_root_;
  int root_fd_ = -1;
  std::mutex mutex_;
  std::atomic<bool> stopping_{false};  // set by the first failure of the store
  RestoreResult result_;
  std::vector<std::pair<Node, std::string>> directories_;  // pre-order
  std::unordered_set<std::string> existing_directories_;   // found in the target, not created
  std::map<std::pair<uint64_t, uint64_t>, std::string> first_links_;
  std::vector<std::pair<Node, std::string>> later_links_;
  // Small files go to the workers in batches: one hand-over (and wake-up) per batch. From a
  // remote store, larger ones: their blobs arrive as ranges read ahead.
  uint64_t batch_limit_bytes_ = 1024 * 1024;
  size_t batch_limit_files_ = 32;
  std::vector<std::pair<Node, std::string>> batch_;
  uint64_t batch_bytes_ = 0;
  void submit_batch() {
    if (batch_.empty()) return;
    hand_over(false, 0, [this, files = std::move(batch_)] { restore_batch(files); });
    batch_.clear();
    batch_bytes_ = 0;
  }
  // From a remote store, work reaches the writers only once the walk has announced
  // `walk_lead_` more bytes after it. A range a writer wants stops growing; handed over at
  // once, the first files' writers want ranges that have just begun, and each small range
  // costs a round trip: at RTT 80 ms the first few hundred files came one round trip per
  // wave of writers. Held back (and all of it at the walk's end, or when the walk waits for
  // the budget), the ranges have grown by the time they are wanted.
  struct HeldWork {
    uint64_t announced_at;
    bool large;
    uint64_t size;
    RestoreQueue::Job job;
  };
  std::deque<HeldWork> held_;
  uint64_t announced_bytes_ = 0, walk_lead_ = 0;
  void hand_over(bool large, uint64_t size, RestoreQueue::Job job) {
    held_.push_back({announced_bytes_, large, size, std::move(job)});
    release_held(false);
  }
  void release_held(bool all) {
    while (!held_.empty() && (all || announced_bytes_ - held_.front().announced_at >= walk_lead_)) {
      HeldWork work = std::move(held_.front());
      held_.pop_front();
      if (work.large)
        queue_.push_large(work.size, std::move(work.job));
      else
        queue_.push_small(std::move(work.job));
    }
  }
  // From a remote store (one that takes saves in the background): trees and file contents
  // read ahead of the walk and the writers. Declared before the queue, so they outlive
  // its workers.
  std::shared_ptr<repo::TreeReadAhead> trees_;
  std::unique_ptr<repo::PackReadAhead> read_ahead_;
  RestoreQueue queue_;
};

bool Restorer::selected(const std::string& absolute, bool is_directory) const {
  if (options_.includes.empty()) return true;
  for (const std::string& include : options_.includes) {
    if (absolute == include || absolute.rfind(include + "/", 0) == 0) return true;
    if (is_directory && include.rfind(absolute + "/", 0) == 0) return true;  // on the way down
  }
  return false;
}

int Restorer::open_parent(const std::string& relative, std::string& name) {
  size_t slash = relative.rfind('/');
  name = slash == std::string::npos ? relative : relative.substr(slash + 1);
  if (slash == std::string::npos) return ::dup(root_fd_);
  return open_beneath(root_fd_, relative.substr(0, slash), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

// Returns the cached descriptor (not to be closed by the caller), or -1 with errno set.
int Restorer::open_parent(const std::string& relative, std::string& name, OpenDirectory& directory) {
  size_t slash = relative.rfind('/');
  std::string path = slash == std::string::npos ? std::string() : relative.substr(0, slash);
  if (directory.fd >= 0 && directory.path == path) {
    name = relative.substr(slash == std::string::npos ? 0 : slash + 1);
    return directory.fd;
  }
  if (directory.fd >= 0) ::close(directory.fd);
  directory.fd = open_parent(relative, name);
  directory.path = std::move(path);
  return directory.fd;
}

void Restorer::apply_metadata(int fd, const Node& node, const std::string& relative) {
  if (as_root_ && fchown(fd, node.uid, node.gid) != 0)
    warn("cannot set owner of " + relative + ": " + std::strerror(errno));
  // chmod after chown: chown clears setuid and setgid bits.
  if (fchmod(fd, node.mode) != 0) warn("cannot set mode of " + relative + ": " + std::strerror(errno));
  for (const auto& [key, value] : node.xattrs)
    if (fsetxattr(fd, key.c_str(), value.data(), value.size(), 0) != 0)
      warn("cannot set xattr " + key + " on " + relative + ": " + std::strerror(errno));
  timespec times[2] = {to_timespec(node.atime_ns), to_timespec(node.mtime_ns)};
  if (futimens(fd, times) != 0) warn("cannot set times of " + relative + ": " + std::strerror(errno));
}

void Restorer::apply_symlink_metadata(const Node& node, const std::string& relative) {
  std::string name;
  int parent = open_parent(relative, name);
  if (parent < 0) return warn("cannot reopen the parent of " + relative + ": " + std::strerror(errno));
  if (as_root_ && fchownat(parent, name.c_str(), node.uid, node.gid, AT_SYMLINK_NOFOLLOW) != 0)
    warn("cannot set owner of " + relative + ": " + std::strerror(errno));
  timespec times[2] = {to_timespec(node.atime_ns), to_timespec(node.mtime_ns)};
  if (utimensat(parent, name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0)
    warn("cannot set times of " + relative + ": " + std::strerror(errno));
  ::close(parent);
}

void Restorer::announce(const Node& node, const std::string& relative) {
  if (!read_ahead_ || may_keep(node, relative)) return;
  for (const Id& id : node.content)
    if (auto location = repository_.index().find(id)) read_ahead_->announce(*location);
  announced_bytes_ += node.size;
}

void Restorer::write_content(int fd, const Node& node, const std::string& relative, repo::BlobSource& blobs,
                             bool announced) {
  ContentWriter writer(fd, relative, node.size >= direct_write_threshold);
  size_t next = 0;
  bool loading = false;
  bool reads_ahead = read_ahead_ && node.size > huge_file;
  size_t announced_blobs = 0;  // blobs of this huge file announced so far
  uint64_t ahead_bytes = 0;    // announced and not yet read
  try {
    for (; next < node.content.size(); ++next) {
      const Id& id = node.content[next];
      throw_if_interrupted();
      repo::BlobLocation location = repository_.locate(id);
      if (reads_ahead) {
        // Topped up by half the read-ahead at a time: neighbours in a pack become one range.
        std::vector<repo::BlobLocation> soon;
        bool top_up = announced_blobs <= next || ahead_bytes < huge_file_read_ahead / 2;
        for (; top_up && announced_blobs < node.content.size() && (announced_blobs <= next || ahead_bytes < huge_file_read_ahead);
             ++announced_blobs)
          if (auto ahead = repository_.index().find(node.content[announced_blobs])) {
            soon.push_back(*ahead);
            ahead_bytes += ahead->stored_length;
          }
        if (!soon.empty()) read_ahead_->announce_soon(soon);
        ahead_bytes -= std::min<uint64_t>(ahead_bytes, location.stored_length);
      }
      // Stop at the first blob past the recorded size: a lying snapshot cannot fill the disk.
      if (writer.size() + location.raw_length > node.size)
        throw IntegrityError("content of " + relative + " is longer than the " + std::to_string(node.size) +
                             " bytes the snapshot says");
      uint8_t* out = writer.reserve(location.raw_length);
      loading = true;
      blobs.load_into(id, location, {out, location.raw_length});
      loading = false;
      writer.commit(location.raw_length);
      if (progress_) progress_->bytes_done += location.raw_length;
    }
  } catch (...) {
    // The blobs announced and now never read give their read-ahead budget back.
    if (read_ahead_ && (announced || reads_ahead))
      for (size_t i = next + (loading ? 1 : 0); i < (reads_ahead ? announced_blobs : node.content.size()); ++i)
        if (auto location = repository_.index().find(node.content[i])) read_ahead_->discard(*location);
    throw;
  }
  if (writer.size() != node.size)
    throw IntegrityError("content of " + relative + " has " + std::to_string(writer.size()) + " bytes, the snapshot says " +
                         std::to_string(node.size));
  writer.finish();
}

bool Restorer::verify_file(const Node& node, const std::string& relative) {
  int fd = open_beneath(root_fd_, relative, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = true;
  uint64_t offset = 0;
  for (const Id& id : node.content) {
    std::optional<repo::BlobLocation> location = repository_.index().find(id);
    if (!location) {
      ok = false;
      break;
    }
    Bytes data(location->raw_length);
    ssize_t n = ::pread(fd, data.data(), data.size(), static_cast<off_t>(offset));
    if (n != static_cast<ssize_t>(data.size()) || repository_.blob_id(data) != id) {
      ok = false;
      break;
    }
    offset += data.size();
  }
  struct stat info;
  if (ok && (fstat(fd, &info) != 0 || static_cast<uint64_t>(info.st_size) != node.size)) ok = false;
  ::close(fd);
  return ok;
}

bool Restorer::may_hold_files(const std::string& relative) {
  size_t slash = relative.rfind('/');
  std::string directory = slash == std::string::npos ? std::string() : relative.substr(0, slash);
  std::lock_guard lock(mutex_);
  return existing_directories_.count(directory) != 0;
}

bool Restorer::may_keep(const Node& node, const std::string& relative) {
  if (!may_hold_files(relative)) return false;
  struct stat existing;
  return fstatat(root_fd_, relative.c_str(), &existing, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(existing.st_mode) &&
         static_cast<uint64_t>(existing.st_size) == node.size;
}

bool Restorer::keep_existing(const Node& node, const std::string& relative, int parent, const std::string& name) {
  struct stat existing;
  if (fstatat(parent, name.c_str(), &existing, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(existing.st_mode) ||
      static_cast<uint64_t>(existing.st_size) != node.size || existing.st_nlink > 1 || !verify_file(node, relative))
    return false;
  int fd = openat(parent, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return false;
  apply_metadata(fd, node, relative);
  ::close(fd);
  std::lock_guard lock(mutex_);
  result_.files++;
  result_.bytes += node.size;
  result_.unchanged_files++;
  result_.unchanged_bytes += node.size;
  if (progress_) progress_->files_done++;
  return true;
}

// An existing file of that name is replaced: the restore recreates the snapshot's state.
// Creating first and looking only on EEXIST spares a lookup per file.
int create_named(int parent, const std::string& name) {
  constexpr int create = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
  int fd = openat(parent, name.c_str(), create, 0600);
  struct stat existing;
  if (fd < 0 && errno == EEXIST && fstatat(parent, name.c_str(), &existing, AT_SYMLINK_NOFOLLOW) == 0 &&
      !S_ISDIR(existing.st_mode) && unlinkat(parent, name.c_str(), 0) == 0)
    fd = openat(parent, name.c_str(), create, 0600);
  return fd;
}

// Gives a finished unnamed file its name, replacing a non-directory already there.
bool link_unnamed(int fd, int parent, const std::string& name) {
  std::string proc = "/proc/self/fd/" + std::to_string(fd);
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (linkat(AT_FDCWD, proc.c_str(), parent, name.c_str(), AT_SYMLINK_FOLLOW) == 0) return true;
    // Without /proc, root can link the descriptor itself.
    if (errno == ENOENT && linkat(fd, "", parent, name.c_str(), AT_EMPTY_PATH) == 0) return true;
    if (errno != EEXIST) return false;
    struct stat existing;
    if (fstatat(parent, name.c_str(), &existing, AT_SYMLINK_NOFOLLOW) != 0 || S_ISDIR(existing.st_mode) ||
        unlinkat(parent, name.c_str(), 0) != 0) {
      errno = EEXIST;
      return false;
    }
  }
  return false;
}


// A file is written unnamed (O_TMPFILE) and linked into place once complete: allocating its
// inode then takes no directory lock, so workers create files in parallel instead of
// queueing on their directory (inode allocation is most of a restore's kernel time), and a
// file that fails half-way never appears. Where O_TMPFILE is not supported, it is created
// by name and removed on failure.
void Restorer::restore_file(const Node& node, const std::string& relative, repo::BlobSource& blobs,
                            OpenDirectory& directory) {
  std::string name;
  int parent = open_parent(relative, name, directory);
  if (parent < 0) return error("cannot open the directory of " + relative + ": " + std::strerror(errno));
  bool candidate = may_keep(node, relative);  // then the walk did not announce its blobs
  if (candidate && keep_existing(node, relative, parent, name)) return;
  int fd = openat(parent, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
  bool unnamed = fd >= 0;
  if (!unnamed) fd = create_named(parent, name);
  if (fd < 0) return target_error("cannot create " + relative, errno);
  try {
    write_content(fd, node, relative, blobs, !candidate);
  } catch (const IntegrityError& e) {
    ::close(fd);
    if (!unnamed) unlinkat(parent, name.c_str(), 0);  // never leave a damaged file looking restored
    return error("file " + relative + " not restored: " + e.what());
  } catch (const Error& e) {
    // Damaged data costs one file; a failing store (I/O, network, permissions) or a signal
    // ends the restore, since every other file would fail the same way, only slower.
    ::close(fd);
    if (!unnamed) unlinkat(parent, name.c_str(), 0);
    stopping_ = true;
    if (e.code() == ExitCode::interrupted) throw;
    throw Error("file " + relative + " not restored: " + e.what(), e.code());
  }
  // Before the link: the file appears with its owner, mode and times (linking changes none).
  apply_metadata(fd, node, relative);
  if (unnamed && !link_unnamed(fd, parent, name)) {
    int saved = errno;
    ::close(fd);
    return target_error("cannot create " + relative, saved);
  }
  ::close(fd);
  if (options_.verify && !verify_file(node, relative)) return error("verification failed for " + relative);
  std::lock_guard lock(mutex_);
  result_.files++;
  result_.bytes += node.size;
  if (options_.verify) result_.verified_files++;
  if (progress_) progress_->files_done++;
}

// Small files' blobs are read ahead together (BlobPrefetch); a large file's blobs are
// large reads already and are read as it is written, which bounds the memory held.
void Restorer::restore_batch(const std::vector<std::pair<Node, std::string>>& files) {
  if (stopping_) return;
  if (read_ahead_) {
    OpenDirectory directory;
    for (const auto& [node, relative] : files) {
      if (stopping_) return;
      restore_file(node, relative, *read_ahead_, directory);
    }
    return;
  }
  std::vector<repo::BlobLocation> wanted;
  for (const auto& [node, relative] : files) {
    if (node.size >= direct_write_threshold) continue;
    for (const Id& id : node.content)
      if (auto location = repository_.index().find(id)) wanted.push_back(*location);
  }
  repo::BlobPrefetch blobs(repository_, std::move(wanted));
  OpenDirectory directory;
  for (const auto& [node, relative] : files) {
    if (stopping_) return;
    restore_file(node, relative, blobs, directory);
  }
}

void Restorer::restore_node(const Node& node, const std::string& relative) {
  std::string name;
  switch (node.type) {
    case NodeType::file: {
      if (node.links > 1) {
        auto key = std::make_pair(node.device, node.inode);
        std::lock_guard lock(mutex_);
        auto [it, first] = first_links_.try_emplace(key, relative);
        if (!first) {
          later_links_.emplace_back(node, relative);
          return;
        }
      }
      if (node.size >= direct_write_threshold) {
        // A file that would take much of the read-ahead budget is read ahead by its writer
        // (write_content); announced here, the walk would wait for a writer that has no
        // file yet.
        if (node.size <= huge_file) announce(node, relative);
        hand_over(true, node.size, [this, files = std::vector{std::make_pair(node, relative)}] { restore_batch(files); });
        return;
      }
      announce(node, relative);
      batch_bytes_ += node.size;
      batch_.emplace_back(node, relative);
      if (batch_bytes_ >= batch_limit_bytes_ || batch_.size() >= batch_limit_files_) submit_batch();
      return;
    }
    case NodeType::symlink: {
      int parent = open_parent(relative, name);
      if (parent < 0) return error("cannot open the directory of " + relative + ": " + std::strerror(errno));
      unlinkat(parent, name.c_str(), 0);
      if (symlinkat(node.link_target.c_str(), parent, name.c_str()) != 0) {
        int saved = errno;
        ::close(parent);
        return target_error("cannot create symlink " + relative, saved);
      }
      ::close(parent);
      apply_symlink_metadata(node, relative);
      std::lock_guard lock(mutex_);
      result_.links++;
      return;
    }
    case NodeType::fifo:
    case NodeType::block_device:
    case NodeType::char_device: {
      if (node.type != NodeType::fifo && !as_root_) return warn("device " + relative + " skipped: needs root");
      int parent = open_parent(relative, name);
      if (parent < 0) return error("cannot open the directory of " + relative + ": " + std::strerror(errno));
      mode_t kind = node.type == NodeType::fifo ? S_IFIFO : node.type == NodeType::block_device ? S_IFBLK : S_IFCHR;
      unlinkat(parent, name.c_str(), 0);
      if (mknodat(parent, name.c_str(), kind | 0600, static_cast<dev_t>(node.rdev)) != 0) {
        int saved = errno;
        ::close(parent);
        return target_error("cannot create " + relative, saved);
      }
      ::close(parent);
      int fd = open_beneath(root_fd_, relative, O_PATH | O_CLOEXEC);
      if (fd >= 0) {
        // fchmod/futimens do not work on O_PATH descriptors; go through the proc link.
        std::string proc = "/proc/self/fd/" + std::to_string(fd);
        if (as_root_ && chown(proc.c_str(), node.uid, node.gid) != 0) warn("cannot set owner of " + relative);
        if (chmod(proc.c_str(), node.mode) != 0) warn("cannot set mode of " + relative);
        timespec times[2] = {to_timespec(node.atime_ns), to_timespec(node.mtime_ns)};
        if (utimensat(AT_FDCWD, proc.c_str(), times, 0) != 0) warn("cannot set times of " + relative);
        ::close(fd);
      }
      std::lock_guard lock(mutex_);
      result_.others++;
      return;
    }
    case NodeType::socket:
      return warn("socket " + relative + " skipped: sockets cannot be restored");
    case NodeType::directory:
      break;
  }
}

void Restorer::walk(const Id& tree_id, const std::string& relative, size_t depth) {
  throw_if_interrupted();
  if (stopping_) return;  // a worker hit a failing store: its error is rethrown by the queue
  if (depth >= repo::max_tree_depth)
    return error("directory /" + relative + " not restored: nested deeper than " + std::to_string(repo::max_tree_depth) +
                 " levels");
  Tree tree;
  try {
    tree = trees_ ? trees_->load(tree_id) : load_tree(repository_, tree_id);
  } catch (const IntegrityError& e) {
    return error("directory /" + relative + " not restored: " + e.what());
  }
  for (const Node& node : tree.nodes) {
    std::string child = join(relative, node.name);
    bool is_directory = node.type == NodeType::directory;
    if (!selected("/" + child, is_directory)) continue;
    if (!is_directory) {
      restore_node(node, child);
      continue;
    }
    std::string name;
    int parent = open_parent(child, name);
    if (parent < 0) {
      error("cannot open the directory of " + child + ": " + std::strerror(errno));
      continue;
    }
    struct stat existing;
    int failure = 0;
    bool existed = false;
    if (mkdirat(parent, name.c_str(), 0700) != 0) {
      failure = errno;
      if (failure == EEXIST && fstatat(parent, name.c_str(), &existing, AT_SYMLINK_NOFOLLOW) == 0 &&
          S_ISDIR(existing.st_mode)) {
        failure = 0;
        existed = true;
      }
    }
    ::close(parent);
    if (failure == EEXIST) {
      error("cannot create directory " + child + ": an existing non-directory or symlink is in the way");
      continue;
    }
    if (existed) {
      std::lock_guard lock(mutex_);
      existing_directories_.insert(child);
    }
    if (failure) {
      target_error("cannot create directory " + child, failure);
      continue;
    }
    directories_.emplace_back(node, child);
    {
      std::lock_guard lock(mutex_);
      result_.directories++;
    }
    if (node.subtree) walk(*node.subtree, child, depth + 1);
  }
}

std::shared_ptr<repo::TreeReadAhead> make_tree_read_ahead(repo::Repository& repository) {
  size_t transfers = repository.backend().background_saves();
  if (!transfers) return nullptr;
  return std::make_shared<repo::TreeReadAhead>(repository, static_cast<unsigned>(2 * transfers), 4096);
}

RestoreResult Restorer::run(const Id& tree) {
  if (repository_.backend().background_saves()) {
    trees_ = options_.trees ? options_.trees : make_tree_read_ahead(repository_);
    uint64_t budget = options_.read_ahead_budget ? options_.read_ahead_budget : default_read_ahead_budget;
    // Waiting for the budget, the walk (the only caller that waits) first hands over the
    // files it has queued: their blobs may be what holds the budget.
    read_ahead_ = std::make_unique<repo::PackReadAhead>(repository_,
                                                        static_cast<unsigned>(repository_.backend().concurrent_reads()), budget,
                                                        stopping_, [this] {
                                                          submit_batch();
                                                          release_held(true);
                                                        });
    walk_lead_ = budget / 4;
    batch_limit_bytes_ = 4 * 1024 * 1024;
    batch_limit_files_ = 128;
  }
  std::error_code error_code;
  std::filesystem::create_directories(options_.target, error_code);
  root_fd_ = ::open(options_.target.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root_fd_ < 0) throw Error("cannot open restore target " + options_.target + ": " + std::strerror(errno));
  existing_directories_.insert("");  // the target itself may hold files already
  try {
    walk(tree, "", 0);
    submit_batch();
    release_held(true);
    if (read_ahead_) read_ahead_->flush();
    queue_.wait();
    for (const auto& [node, relative] : later_links_) {
      const std::string& first = first_links_.at({node.device, node.inode});
      std::string first_name, name;
      int first_parent = open_parent(first, first_name);
      int parent = open_parent(relative, name);
      if (first_parent >= 0 && parent >= 0) {
        unlinkat(parent, name.c_str(), 0);
        if (linkat(first_parent, first_name.c_str(), parent, name.c_str(), 0) == 0)
          result_.files++;
        else
          error("cannot link " + relative + " to " + first + ": " + std::strerror(errno));
      } else {
        error("cannot open the directories to link " + relative);
      }
      if (first_parent >= 0) ::close(first_parent);
      if (parent >= 0) ::close(parent);
    }
    for (auto it = directories_.rbegin(); it != directories_.rend(); ++it) {
      int fd = open_beneath(root_fd_, it->second, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0) {
        warn("cannot reopen directory " + it->second);
        continue;
      }
      apply_metadata(fd, it->first, it->second);
      ::close(fd);
    }
    if (options_.target_metadata) apply_metadata(root_fd_, *options_.target_metadata, options_.target);
  } catch (...) {
    queue_.cancel();
    ::close(root_fd_);
    throw;
  }
  ::close(root_fd_);
  return std::move(result_);
}

}  // namespace

std::shared_ptr<repo::TreeReadAhead> read_trees_ahead(repo::Repository& repository, const Id& root) {
  std::shared_ptr<repo::TreeReadAhead> trees = make_tree_read_ahead(repository);
  if (trees) trees->prefetch(root);
  return trees;
}

RestoreResult restore_tree(repo::Repository& repository, const Id& tree, const RestoreOptions& options,
                           RestoreProgress* progress) {
  Restorer restorer(repository, options, progress);
  return restorer.run(tree);
}

}  // namespace obkeep::archiver
