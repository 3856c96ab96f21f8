// The backup walk. The walker thread reads directories and metadata in name order and
// hands files that need reading to a worker pool (read → chunk → hash → compress →
// encrypt → pack, all inside ChunkedWriter and the Repository). Trees are saved once
// every file below them is done, bottom-up, after the walk.
#include "archiver/backup.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <future>
#include <limits>
#include <map>
#include <memory>
#include <mutex>

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

struct FileOutcome {
  std::vector<Id> content;
  uint64_t size = 0;
  std::string error;  // empty when read
  bool changed_while_reading = false;
};

enum class Change { added, modified, unmodified };

struct DirectoryBuild;

struct Entry {
  Node node;
  Change change = Change::added;
  std::shared_future<FileOutcome> file;     // set when the file is being read
  std::unique_ptr<DirectoryBuild> directory;  // set for directories
  std::shared_future<bool> walked;            // set for directories being walked
  std::string path;
};

struct DirectoryBuild {
  std::vector<Entry> entries;
  std::optional<Id> parent_subtree;
  std::optional<Tree> parent_tree;  // loaded while walking; lets an unchanged tree skip re-encoding
};

bool same_file(const Node& now, const Node& before) {
  return before.type == NodeType::file && now.size == before.size && now.mtime_ns == before.mtime_ns &&
         now.ctime_ns == before.ctime_ns && now.inode == before.inode;
}

int open_for_reading(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOATIME);
  if (fd < 0 && errno == EPERM) fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  return fd;
}

class Walker {
 public:
  Walker(repo::Repository& repository, const BackupOptions& options, BackupProgress* progress)
      : repository_(repository),
        options_(options),
        progress_(progress),
        // Two readers per core: while one waits for the disk the other chunks and hashes;
        // encoding is bounded by the repository's pack writers (one per core).
        pool_(options.workers ? options.workers : 2 * ThreadPool::default_workers(), 64),
        directory_pool_(4, std::numeric_limits<size_t>::max()) {}

  // Walks and saves everything; on any failure the queued work is dropped, so the error
  // reaches the caller without the rest of the tree being read first.
  BackupResult run() {
    try {
      return walk_and_save();
    } catch (...) {
      directory_pool_.cancel();
      pool_.cancel();
      throw;
    }
  }

 private:
  BackupResult walk_and_save();
  bool excluded(const std::string& path, const std::string& name) const;
  std::optional<Tree> parent_tree_of(const std::optional<Id>& subtree);
  // Fills `build` with the entries of the directory at `path`; false when unreadable.
  bool walk_directory(const std::string& path, DirectoryBuild& build);
  void walk_done() {
    if (--walks_pending_ == 0 && progress_) progress_->scan_finished = true;
  }
  void add_entry(DirectoryBuild& build, const std::optional<Tree>& parent, int directory_fd, const std::string& path,
                 const std::string& name);
  FileOutcome save_file(const std::string& path, const Node& node);
  Id finish_directory(DirectoryBuild& build);
  void add_root_path(DirectoryBuild& root, const std::string& path);

  repo::Repository& repository_;
  const BackupOptions& options_;
  BackupProgress* progress_;
  BackupResult result_;
  std::mutex result_mutex_;
  // Declared before the pools, so that on an error their tasks finish before it is freed.
  DirectoryBuild root_;
  // Directory walks not yet done, plus one held by run() while it adds the roots: when it
  // reaches zero the totals in the progress are complete and an ETA can be given.
  std::atomic<int> walks_pending_{1};
  std::mutex hard_links_mutex_;
  std::map<std::pair<uint64_t, uint64_t>, std::shared_future<FileOutcome>> hard_links_;
  ThreadPool pool_;
  // Directories are read in parallel too: with a cold cache every readdir and stat waits
  // for the disk. Its queue is unbounded so a directory task never blocks on its children.
  ThreadPool directory_pool_;
};

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

FileOutcome Walker::save_file(const std::string& path, const Node& node) {
  FileOutcome outcome;
  int fd = open_for_reading(path);
  if (fd < 0) {
    outcome.error = "cannot open " + path + ": " + std::strerror(errno);
    return outcome;
  }
  posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  struct stat before {}, after {};
  fstat(fd, &before);
  thread_local Bytes buffer;
  ChunkedWriter writer(repository_, repository_.chunker(), &buffer);
  try {
    writer.write_from_fd(fd, path);
    writer.close();
  } catch (const SourceReadError& e) {
    ::close(fd);
    outcome.error = e.what();
    return outcome;
  } catch (...) {
    ::close(fd);
    throw;
  }
  fstat(fd, &after);
  ::close(fd);
  outcome.content = writer.content();
  outcome.size = writer.size();
  outcome.changed_while_reading = outcome.size != node.size || before.st_size != after.st_size ||
                                  before.st_mtim.tv_sec != after.st_mtim.tv_sec ||
                                  before.st_mtim.tv_nsec != after.st_mtim.tv_nsec ||
                                  before.st_ctim.tv_nsec != after.st_ctim.tv_nsec;
  if (progress_) {
    progress_->files_done++;
    progress_->bytes_done += outcome.size;
  }
  return outcome;
}

void Walker::add_entry(DirectoryBuild& build, const std::optional<Tree>& parent, int directory_fd,
                       const std::string& path, const std::string& name) {
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
  entry.path = path;
  const Node* before = parent ? parent->find(name) : nullptr;
  entry.change = !before ? Change::added : Change::modified;
  if (entry.node.type == NodeType::directory) {
    entry.directory = std::make_unique<DirectoryBuild>();
    if (before && before->type == NodeType::directory) entry.directory->parent_subtree = before->subtree;
    DirectoryBuild* directory = entry.directory.get();
    walks_pending_++;
    entry.walked = directory_pool_
                       .submit([this, path, directory] {
                         bool ok = false;
                         try {
                           ok = walk_directory(path, *directory);
                         } catch (...) {
                           walk_done();
                           throw;
                         }
                         walk_done();
                         return ok;
                       })
                       .share();
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
      auto key = std::make_pair(entry.node.device, entry.node.inode);
      std::unique_lock links_lock(hard_links_mutex_, std::defer_lock);
      if (entry.node.links > 1) links_lock.lock();
      auto link = entry.node.links > 1 ? hard_links_.find(key) : hard_links_.end();
      if (link != hard_links_.end()) {
        entry.file = link->second;
      } else {
        Node node = entry.node;
        entry.file = pool_.submit([this, path, node] { return save_file(path, node); }).share();
        if (entry.node.links > 1) hard_links_[key] = entry.file;
      }
    }
  } else if (before && before->type == entry.node.type) {
    entry.change = Change::unmodified;
  }
  build.entries.push_back(std::move(entry));
}

bool Walker::walk_directory(const std::string& path, DirectoryBuild& build) {
  throw_if_interrupted();
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  DIR* directory = fd >= 0 ? fdopendir(fd) : nullptr;
  if (!directory) {
    std::lock_guard lock(result_mutex_);
    result_.errors.push_back("cannot read directory " + path + ": " + std::strerror(errno));
    if (fd >= 0) ::close(fd);
    return false;
  }
  std::vector<std::string> names;
  errno = 0;
  while (dirent* entry = readdir(directory)) {
    if (std::strcmp(entry->d_name, ".") == 0 || std::strcmp(entry->d_name, "..") == 0) continue;
    names.emplace_back(entry->d_name);
  }
  std::sort(names.begin(), names.end());
  build.parent_tree = parent_tree_of(build.parent_subtree);
  for (const std::string& name : names) {
    std::string child = path == "/" ? "/" + name : path + "/" + name;
    if (excluded(child, name)) continue;
    add_entry(build, build.parent_tree, dirfd(directory), child, name);
  }
  closedir(directory);
  return true;
}

Id Walker::finish_directory(DirectoryBuild& build) {
  Tree tree;
  for (Entry& entry : build.entries) {
    if (entry.file.valid()) {
      const FileOutcome& outcome = entry.file.get();
      std::lock_guard lock(result_mutex_);
      if (!outcome.error.empty()) {
        result_.errors.push_back(outcome.error);
        continue;
      }
      if (outcome.changed_while_reading) result_.changed_while_reading.push_back(entry.path);
      entry.node.content = outcome.content;
      entry.node.size = outcome.size;
    }
    if (entry.directory) {
      if (entry.walked.valid() && !entry.walked.get()) continue;  // unreadable: reported by the walk
      entry.node.subtree = finish_directory(*entry.directory);
      bool same = entry.directory->parent_subtree && *entry.directory->parent_subtree == *entry.node.subtree;
      (same ? result_.dirs_unmodified : entry.change == Change::added ? result_.dirs_new : result_.dirs_changed)++;
    } else if (entry.node.type == NodeType::file) {
      (entry.change == Change::unmodified ? result_.files_unmodified
       : entry.change == Change::added    ? result_.files_new
                                          : result_.files_changed)++;
      result_.bytes_processed += entry.node.size;
    }
    tree.nodes.push_back(std::move(entry.node));
  }
  build.entries.clear();
  // Most directories of a repeated backup are unchanged: the parent's tree blob is then the
  // same blob, and encoding and hashing it again would only confirm that.
  if (build.parent_tree && build.parent_subtree && build.parent_tree->nodes == tree.nodes) {
    build.parent_tree.reset();
    return *build.parent_subtree;
  }
  build.parent_tree.reset();
  return save_tree(repository_, std::move(tree));
}

// Adds /a/b/c below the virtual root: /a and /a/b become directory nodes holding only
// the way down, with their own metadata, so a restore recreates them faithfully.
void Walker::add_root_path(DirectoryBuild& root, const std::string& path) {
  std::vector<std::string> parts;
  for (const auto& part : std::filesystem::path(path)) {
    std::string text = part.string();
    if (text != "/" && !text.empty()) parts.push_back(text);
  }
  DirectoryBuild* build = &root;
  std::string prefix;
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string parent_path = prefix.empty() ? "/" : prefix;
    prefix += "/" + parts[i];
    auto it = std::find_if(build->entries.begin(), build->entries.end(),
                           [&](const Entry& e) { return e.node.name == parts[i]; });
    std::optional<Tree> parent = parent_tree_of(build->parent_subtree);
    if (i + 1 == parts.size()) {
      if (it != build->entries.end()) return;  // given twice
      int fd = ::open(parent_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0) throw Error("cannot open " + parent_path + ": " + std::strerror(errno));
      size_t before = build->entries.size();
      add_entry(*build, parent, fd, prefix, parts[i]);
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
      entry.path = prefix;
      entry.directory = std::make_unique<DirectoryBuild>();
      const Node* before = parent ? parent->find(parts[i]) : nullptr;
      entry.change = before ? Change::modified : Change::added;
      if (before && before->type == NodeType::directory) entry.directory->parent_subtree = before->subtree;
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
  DirectoryBuild& root = root_;
  if (options_.parent) root.parent_subtree = options_.parent->tree;
  for (const std::string& path : roots) {
    if (path == "/") {
      if (!walk_directory("/", root)) throw Error("cannot read /");
    } else {
      add_root_path(root, path);
    }
  }
  walk_done();  // the roots are added
  std::sort(root.entries.begin(), root.entries.end(),
            [](const Entry& a, const Entry& b) { return a.node.name < b.node.name; });
  result_.tree = finish_directory(root);
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
