// The backup walk. Directory tasks read directories and metadata in name order and hand
// the files that need reading, in batches, to a worker pool (read → chunk → hash →
// compress → encrypt → pack, all inside ChunkedWriter and the Repository). A directory's
// tree is saved as soon as everything below it is done, and its entries are freed then: the
// memory held is that of the directories in flight, not of the whole tree.
#include "archiver/backup.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <utility>

#include "archiver/capture_node.hpp"
#include "archiver/chunked_writer.hpp"
#include "archiver/exclude.hpp"
#include "repo/tree.hpp"
#include "util/error.hpp"
#include "util/host.hpp"
#include "util/interrupt.hpp"
#include "util/thread_pool.hpp"

namespace obkeep::archiver {

using repo::load_tree;
using repo::Node;
using repo::NodeType;
using repo::save_tree;
using repo::Tree;

namespace {

// A batch ends at this many files or bytes: small files travel together, so a thread
// hand-off is paid per batch rather than per file, while large files still spread over
// the readers.
constexpr size_t batch_files = 32;
constexpr uint64_t batch_bytes = 1 << 20;
// Below this size a read-ahead hint costs more than the one read it would help.
constexpr uint64_t sequential_hint_bytes = 256 * 1024;

enum class Change { added, modified, unmodified };

struct DirectoryBuild;

// What reading a file produced, beside its content in the node.
struct ReadOutcome {
  std::string error;  // empty when read
  bool changed_while_reading = false;
};

// A file with several names is read once; the names met before the read ends wait here.
struct SharedRead {
  std::mutex mutex;
  bool done = false;
  std::vector<Id> content;
  uint64_t size = 0;
  ReadOutcome outcome;
  std::vector<std::pair<DirectoryBuild*, size_t>> waiters;  // directory, entry index
};

struct Entry {
  Node node;
  Change change = Change::added;
  bool needs_read = false;
  std::shared_ptr<SharedRead> link;  // the group of a hard-linked file: read here or waited for
  ReadOutcome outcome;
  std::unique_ptr<DirectoryBuild> directory;  // set for directories
};

struct DirectoryBuild {
  std::string path;  // "" for the virtual root
  DirectoryBuild* parent = nullptr;
  std::vector<Entry> entries;  // fixed once the walk of this directory is done
  std::optional<Id> parent_subtree;
  std::optional<Tree> parent_tree;  // loaded while walking; lets an unchanged tree skip re-encoding
  // Work left before the tree can be saved: the walk itself, each batch of reads, each
  // subdirectory and each name waiting for a hard link's read. Whoever takes it to zero
  // saves the tree.
  std::atomic<size_t> pending{1};
  bool readable = true;
  std::optional<Id> subtree;  // once saved
};

std::string child_path(const std::string& directory, const std::string& name) {
  return directory == "/" ? "/" + name : directory + "/" + name;
}

bool same_file(const Node& now, const Node& before) {
  return before.type == NodeType::file && now.size == before.size && now.mtime_ns == before.mtime_ns &&
         now.ctime_ns == before.ctime_ns && now.inode == before.inode;
}

int open_for_reading(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOATIME);
  if (fd < 0 && errno == EPERM) fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  return fd;
}

int64_t nanoseconds(const struct timespec& time) { return int64_t(time.tv_sec) * 1'000'000'000 + time.tv_nsec; }

class Walker {
 public:
  Walker(repo::Repository& repository, const BackupOptions& options, BackupProgress* progress)
      : repository_(repository),
        options_(options),
        progress_(progress),
        // Two readers per core: while one waits for the disk the other chunks and hashes;
        // encoding is bounded by the repository's pack writers (one per core). The bounded
        // queue holds the directory walk back to the pace of the readers.
        pool_(options.workers ? options.workers : 2 * ThreadPool::default_workers(), 16),
        directory_pool_(4, std::numeric_limits<size_t>::max()) {}

  // Walks and saves everything; on any failure the queued work is dropped, so the error
  // reaches the caller without the rest of the tree being read first.
  BackupResult run() {
    try {
      return walk_and_save();
    } catch (...) {
      failed_ = true;
      directory_pool_.cancel();
      pool_.cancel();
      throw;
    }
  }

 private:
  BackupResult walk_and_save();
  bool excluded(const std::string& path, const std::string& name) const;
  std::optional<Tree> parent_tree_of(const std::optional<Id>& subtree);
  // Fills `build` with the entries of its directory and schedules their reads; false when
  // the directory is unreadable.
  bool walk_directory(DirectoryBuild& build);
  void walk_done() {
    if (--walks_pending_ == 0 && progress_) progress_->scan_finished = true;
  }
  void add_entry(DirectoryBuild& build, int directory_fd, const std::string& name);
  // Once `build.entries` is final: hard-linked names wait for their read, the rest are read
  // in batches.
  void schedule_reads(DirectoryBuild& build);
  void read_batch(DirectoryBuild& build, const std::vector<size_t>& batch);
  // Reads one file into the repository; `fd` is the file opened already, or -1.
  void read_file(const std::string& path, Entry& entry, int fd);
  void publish_shared_read(SharedRead& shared, const Entry& entry);
  // Gives back one unit of `build`'s pending work; the last one saves its tree, and so on up.
  void release(DirectoryBuild* build);
  void finish_directory(DirectoryBuild& build);
  void add_root_path(const std::string& path);
  // Runs a task of the walk; an exception ends the whole backup.
  template <typename Task>
  void guarded(Task task);
  void fail(std::exception_ptr failure);

  repo::Repository& repository_;
  const BackupOptions& options_;
  BackupProgress* progress_;
  BackupResult result_;
  std::mutex result_mutex_;
  // Declared before the pools, so that on an error their tasks finish before it is freed.
  DirectoryBuild root_;
  std::vector<DirectoryBuild*> root_builds_;  // the virtual root and the directories on the way to each path
  // Directory walks not yet done, plus one held by run() while it adds the roots: when it
  // reaches zero the totals in the progress are complete and an ETA can be given.
  std::atomic<int> walks_pending_{1};
  std::mutex hard_links_mutex_;
  std::map<std::pair<uint64_t, uint64_t>, std::shared_ptr<SharedRead>> hard_links_;
  std::mutex done_mutex_;
  std::condition_variable done_;
  bool root_saved_ = false;
  std::exception_ptr failure_;
  std::atomic<bool> failed_{false};
  ThreadPool pool_;
  // Directories are read in parallel too: with a cold cache every readdir and stat waits
  // for the disk. Its queue is unbounded so a directory task never blocks on its children.
  ThreadPool directory_pool_;
};

template <typename Task>
void Walker::guarded(Task task) {
  if (failed_) return;
  try {
    task();
  } catch (...) {
    fail(std::current_exception());
  }
}

void Walker::fail(std::exception_ptr failure) {
  failed_ = true;
  std::lock_guard lock(done_mutex_);
  if (!failure_) failure_ = failure;
  done_.notify_all();
}

bool Walker::excluded(const std::string& path, const std::string& name) const {
  return is_excluded(options_.excludes, path, name);
}

std::optional<Tree> Walker::parent_tree_of(const std::optional<Id>& subtree) {
  if (!subtree) return std::nullopt;
  try {
    return load_tree(repository_, *subtree);
  } catch (const Error& e) {
    // A damaged parent only costs speed: every file below is read again.
    std::lock_guard lock(result_mutex_);
    result_.changed_while_reading.push_back("parent tree unreadable, rereading: " + std::string(e.what()));
    return std::nullopt;
  }
}

void Walker::read_file(const std::string& path, Entry& entry, int fd) {
  Node& node = entry.node;
  if (fd < 0) fd = open_for_reading(path);
  if (fd < 0) {
    entry.outcome.error = "cannot open " + path + ": " + std::strerror(errno);
    return;
  }
  if (node.size >= sequential_hint_bytes) posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  thread_local Bytes buffer;
  ChunkedWriter writer(repository_, repository_.chunker(), &buffer);
  try {
    writer.write_from_fd(fd, path);
    writer.close();
  } catch (const SourceReadError& e) {
    ::close(fd);
    entry.outcome.error = e.what();
    return;
  } catch (...) {
    ::close(fd);
    throw;
  }
  struct stat after {};
  fstat(fd, &after);
  ::close(fd);
  // Compared with the metadata taken by the walk: any change since then, during the read
  // or before it, means the content may not match the node.
  entry.outcome.changed_while_reading = writer.size() != node.size || uint64_t(after.st_size) != node.size ||
                                        nanoseconds(after.st_mtim) != node.mtime_ns ||
                                        nanoseconds(after.st_ctim) != node.ctime_ns;
  node.content = writer.content();
  node.size = writer.size();
  if (progress_) {
    progress_->files_done++;
    progress_->bytes_done += node.size;
  }
}

void Walker::add_entry(DirectoryBuild& build, int directory_fd, const std::string& name) {
  std::string path = child_path(build.path, name);
  struct stat info;
  if (fstatat(directory_fd, name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
    std::lock_guard lock(result_mutex_);
    result_.errors.push_back("cannot stat " + path + ": " + std::strerror(errno));
    return;
  }
  Entry entry;
  try {
    entry.node = capture_node(directory_fd, name, info);
  } catch (const Error& e) {
    std::lock_guard lock(result_mutex_);
    result_.errors.push_back(e.what());
    return;
  }
  const std::optional<Tree>& parent = build.parent_tree;
  const Node* before = parent ? parent->find(name) : nullptr;
  entry.change = !before ? Change::added : Change::modified;
  if (entry.node.type == NodeType::directory) {
    entry.directory = std::make_unique<DirectoryBuild>();
    DirectoryBuild* directory = entry.directory.get();
    directory->path = path;
    directory->parent = &build;
    if (before && before->type == NodeType::directory) directory->parent_subtree = before->subtree;
    build.pending++;
    walks_pending_++;
    directory_pool_.submit([this, directory] {
      guarded([&] {
        directory->readable = walk_directory(*directory);
        walk_done();
        release(directory);
      });
    });
  } else if (entry.node.type == NodeType::file) {
    if (progress_) {
      progress_->files_total++;
      progress_->bytes_total += entry.node.size;
    }
    if (!options_.force && before && same_file(entry.node, *before)) {
      entry.node.content = before->content;
      entry.change = Change::unmodified;
      if (progress_) {
        progress_->files_done++;
        progress_->bytes_done += entry.node.size;
      }
    } else {
      entry.needs_read = true;
      if (entry.node.links > 1) {
        std::lock_guard lock(hard_links_mutex_);
        auto [group, first] = hard_links_.try_emplace({entry.node.device, entry.node.inode});
        if (first) group->second = std::make_shared<SharedRead>();
        entry.link = group->second;
        // Only the first name reads; the others wait for it (see schedule_reads).
        entry.needs_read = first;
      }
    }
  } else if (before && before->type == entry.node.type) {
    entry.change = Change::unmodified;
  }
  build.entries.push_back(std::move(entry));
}

bool Walker::walk_directory(DirectoryBuild& build) {
  throw_if_interrupted();
  int fd = ::open(build.path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  DIR* directory = fd >= 0 ? fdopendir(fd) : nullptr;
  if (!directory) {
    std::lock_guard lock(result_mutex_);
    result_.errors.push_back("cannot read directory " + build.path + ": " + std::strerror(errno));
    if (fd >= 0) ::close(fd);
    return false;
  }
  std::vector<std::string> names;
  while (dirent* entry = readdir(directory)) {
    if (std::strcmp(entry->d_name, ".") == 0 || std::strcmp(entry->d_name, "..") == 0) continue;
    names.emplace_back(entry->d_name);
  }
  std::sort(names.begin(), names.end());
  build.parent_tree = parent_tree_of(build.parent_subtree);
  for (const std::string& name : names) {
    if (excluded(child_path(build.path, name), name)) continue;
    add_entry(build, dirfd(directory), name);
  }
  closedir(directory);
  schedule_reads(build);
  return true;
}

void Walker::schedule_reads(DirectoryBuild& build) {
  std::vector<size_t> batch;
  uint64_t batch_size = 0;
  auto submit = [&] {
    build.pending++;
    pool_.submit([this, &build, batch = std::move(batch)] {
      guarded([&] {
        read_batch(build, batch);
        release(&build);
      });
    });
    batch.clear();
    batch_size = 0;
  };
  for (size_t i = 0; i < build.entries.size(); ++i) {
    Entry& entry = build.entries[i];
    if (entry.link && !entry.needs_read) {
      std::lock_guard lock(entry.link->mutex);
      if (entry.link->done) {
        entry.node.content = entry.link->content;
        entry.node.size = entry.link->size;
        entry.outcome = entry.link->outcome;
      } else {
        build.pending++;
        entry.link->waiters.emplace_back(&build, i);
      }
      continue;
    }
    if (!entry.needs_read) continue;
    batch.push_back(i);
    batch_size += entry.node.size;
    if (batch.size() >= batch_files || batch_size >= batch_bytes) submit();
  }
  if (!batch.empty()) submit();
}

// The batch's small files opened together, each asked for in full at once
// (POSIX_FADV_WILLNEED): with a cold cache every small file is a disk read, and asking for
// them together keeps the disk's queue full instead of waiting for one read at a time.
class PrefetchedFiles {
 public:
  PrefetchedFiles(const DirectoryBuild& build, const std::vector<size_t>& batch) : fds_(batch.size(), -1) {
    for (size_t i = 0; i < batch.size(); ++i) {
      const Node& node = build.entries[batch[i]].node;
      if (node.size == 0 || node.size >= sequential_hint_bytes) continue;
      fds_[i] = open_for_reading(child_path(build.path, node.name));
      if (fds_[i] >= 0) posix_fadvise(fds_[i], 0, 0, POSIX_FADV_WILLNEED);
    }
  }
  ~PrefetchedFiles() {
    for (int fd : fds_)
      if (fd >= 0) ::close(fd);
  }
  // The i-th file's descriptor, now owned by the caller; -1 when it was not opened here.
  int take(size_t i) { return std::exchange(fds_[i], -1); }

 private:
  std::vector<int> fds_;
};

void Walker::read_batch(DirectoryBuild& build, const std::vector<size_t>& batch) {
  PrefetchedFiles files(build, batch);
  for (size_t i = 0; i < batch.size(); ++i) {
    if (failed_) return;
    Entry& entry = build.entries[batch[i]];
    read_file(child_path(build.path, entry.node.name), entry, files.take(i));
    if (entry.link) publish_shared_read(*entry.link, entry);
  }
}

void Walker::publish_shared_read(SharedRead& shared, const Entry& entry) {
  std::vector<std::pair<DirectoryBuild*, size_t>> waiters;
  {
    std::lock_guard lock(shared.mutex);
    shared.done = true;
    shared.content = entry.node.content;
    shared.size = entry.node.size;
    shared.outcome = entry.outcome;
    waiters.swap(shared.waiters);
  }
  for (auto [directory, index] : waiters) {
    Entry& waiting = directory->entries[index];
    waiting.node.content = shared.content;
    waiting.node.size = shared.size;
    waiting.outcome = shared.outcome;
    release(directory);
  }
}

void Walker::release(DirectoryBuild* build) {
  while (build && build->pending.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    if (failed_) return;
    finish_directory(*build);
    if (!build->parent) {
      std::lock_guard lock(done_mutex_);
      root_saved_ = true;
      done_.notify_all();
    }
    build = build->parent;
  }
}

void Walker::finish_directory(DirectoryBuild& build) {
  if (!build.readable) {  // reported by the walk; the parent leaves it out
    build.entries.clear();
    return;
  }
  Tree tree;
  tree.nodes.reserve(build.entries.size());
  {
    std::lock_guard lock(result_mutex_);
    for (Entry& entry : build.entries) {
      if (entry.needs_read || entry.link) {
        if (!entry.outcome.error.empty()) {
          result_.errors.push_back(entry.outcome.error);
          continue;
        }
        if (entry.outcome.changed_while_reading) result_.changed_while_reading.push_back(child_path(build.path, entry.node.name));
      }
      if (entry.directory) {
        DirectoryBuild& child = *entry.directory;
        if (!child.readable) continue;
        entry.node.subtree = child.subtree;
        bool same = child.parent_subtree && *child.parent_subtree == *child.subtree;
        (same ? result_.dirs_unmodified : entry.change == Change::added ? result_.dirs_new : result_.dirs_changed)++;
        entry.directory.reset();
      } else if (entry.node.type == NodeType::file) {
        (entry.change == Change::unmodified ? result_.files_unmodified
         : entry.change == Change::added    ? result_.files_new
                                            : result_.files_changed)++;
        result_.bytes_processed += entry.node.size;
      }
      tree.nodes.push_back(std::move(entry.node));
    }
  }
  std::vector<Entry>().swap(build.entries);
  // Most directories of a repeated backup are unchanged: the parent's tree blob is then the
  // same blob, and encoding and hashing it again would only confirm that.
  if (build.parent_tree && build.parent_subtree && build.parent_tree->nodes == tree.nodes) {
    build.parent_tree.reset();
    build.subtree = build.parent_subtree;
    return;
  }
  build.parent_tree.reset();
  build.subtree = save_tree(repository_, std::move(tree));
}

// Adds /a/b/c below the virtual root: /a and /a/b become directory nodes holding only
// the way down, with their own metadata, so a restore recreates them faithfully.
void Walker::add_root_path(const std::string& path) {
  std::vector<std::string> parts;
  for (const auto& part : std::filesystem::path(path)) {
    std::string text = part.string();
    if (text != "/" && !text.empty()) parts.push_back(text);
  }
  DirectoryBuild* build = &root_;
  std::string prefix;
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string parent_path = prefix.empty() ? "/" : prefix;
    prefix += "/" + parts[i];
    auto it = std::find_if(build->entries.begin(), build->entries.end(),
                           [&](const Entry& e) { return e.node.name == parts[i]; });
    if (!build->parent_tree) build->parent_tree = parent_tree_of(build->parent_subtree);
    if (i + 1 == parts.size()) {
      if (it != build->entries.end()) return;  // given twice
      int fd = ::open(parent_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0) throw Error("cannot open " + parent_path + ": " + std::strerror(errno));
      size_t before = build->entries.size();
      add_entry(*build, fd, parts[i]);
      ::close(fd);
      if (build->entries.size() == before && access(prefix.c_str(), F_OK) != 0)
        throw Error("backup path does not exist: " + path);
      return;
    }
    if (it == build->entries.end()) {
      struct stat info;
      if (lstat(prefix.c_str(), &info) != 0) throw Error("backup path does not exist: " + path);
      if (!S_ISDIR(info.st_mode)) throw Error("not a directory on the way to " + path + ": " + prefix);
      int fd = ::open(parent_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0) throw Error("cannot open " + parent_path + ": " + std::strerror(errno));
      Entry entry;
      entry.node = capture_node(fd, parts[i], info);
      ::close(fd);
      entry.directory = std::make_unique<DirectoryBuild>();
      entry.directory->path = prefix;
      entry.directory->parent = build;
      const Node* before = build->parent_tree ? build->parent_tree->find(parts[i]) : nullptr;
      entry.change = before ? Change::modified : Change::added;
      if (before && before->type == NodeType::directory) entry.directory->parent_subtree = before->subtree;
      build->pending++;
      root_builds_.push_back(entry.directory.get());
      build->entries.push_back(std::move(entry));
      it = build->entries.end() - 1;
    }
    if (!it->directory) return;  // a file given before a path below it: nothing to add
    build = it->directory.get();
  }
}

BackupResult Walker::walk_and_save() {
  std::vector<std::string> paths;
  for (const std::string& path : options_.paths) paths.push_back(absolute_path(path));
  std::sort(paths.begin(), paths.end());
  // A path inside another one given is already covered by it.
  std::vector<std::string> roots;
  for (const std::string& path : paths) {
    bool covered = std::any_of(roots.begin(), roots.end(), [&](const std::string& root) {
      return root == "/" || path == root || path.rfind(root + "/", 0) == 0;
    });
    if (!covered) roots.push_back(path);
  }
  result_.paths = roots;
  if (options_.parent) root_.parent_subtree = options_.parent->tree;
  if (roots.size() == 1 && roots[0] == "/") {
    root_.path = "/";
    if (!walk_directory(root_)) throw Error("cannot read /");
    release(&root_);
  } else {
    root_builds_.push_back(&root_);
    for (const std::string& path : roots) add_root_path(path);
    // The directories on the way are complete only now; their entries are sorted (paths
    // were added in order, but a/b and a-b/c sort differently as paths and as names).
    for (DirectoryBuild* build : root_builds_) {
      std::sort(build->entries.begin(), build->entries.end(),
                [](const Entry& a, const Entry& b) { return a.node.name < b.node.name; });
      schedule_reads(*build);
    }
    std::vector<DirectoryBuild*> builds;
    builds.swap(root_builds_);
    for (DirectoryBuild* build : builds) release(build);
  }
  walk_done();  // the roots are added
  std::unique_lock lock(done_mutex_);
  while (!root_saved_ && !failure_) {
    done_.wait_for(lock, std::chrono::milliseconds(100));
    if (interrupted()) {
      lock.unlock();
      throw_if_interrupted();
    }
  }
  if (failure_) std::rethrow_exception(failure_);
  lock.unlock();
  std::sort(result_.errors.begin(), result_.errors.end());
  std::sort(result_.changed_while_reading.begin(), result_.changed_while_reading.end());
  result_.tree = *root_.subtree;
  return std::move(result_);
}

}  // namespace

std::string absolute_path(const std::string& path) {
  std::filesystem::path absolute = std::filesystem::absolute(path).lexically_normal();
  std::string text = absolute.string();
  while (text.size() > 1 && text.back() == '/') text.pop_back();
  return text;
}

std::optional<repo::Snapshot> find_parent(const std::vector<repo::Snapshot>& snapshots,
                                          const std::vector<std::string>& absolute_paths,
                                          const std::vector<std::string>& tags) {
  std::vector<std::string> wanted = absolute_paths;
  std::sort(wanted.begin(), wanted.end());
  std::string host = hostname();
  for (auto it = snapshots.rbegin(); it != snapshots.rend(); ++it) {
    std::vector<std::string> paths = it->paths;
    std::sort(paths.begin(), paths.end());
    if (paths != wanted || it->hostname != host) continue;
    if (!std::all_of(tags.begin(), tags.end(), [&](const std::string& tag) { return it->has_tag(tag); })) continue;
    return *it;
  }
  return std::nullopt;
}

BackupResult backup_paths(repo::Repository& repository, const BackupOptions& options, BackupProgress* progress) {
  Walker walker(repository, options, progress);
  return walker.run();
}

}  // namespace obkeep::archiver
