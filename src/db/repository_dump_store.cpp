// Dump streams ↔ snapshot files.
#include "db/repository_dump_store.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <future>
#include <map>
#include <thread>

#include "archiver/chunked_writer.hpp"
#include "repo/tree.hpp"
#include "util/error.hpp"
#include "util/host.hpp"

namespace obkeep::db {

using repo::Node;
using repo::NodeType;

// Two stages per stream: the engine's thread reads the database and formats rows; a
// thread of the sink's (kept from stream to stream) cuts, hashes, compresses, encrypts and
// stores them (the larger part of the work), so the two overlap. Writes are gathered into
// 1 MiB buffers; at most two wait for the storing thread, which bounds memory at about
// 3 MiB a stream. Chunks are compressed at zstd's fast level: a dump competes for the
// cores with the server it reads, and at the standard level compression was over half of
// obkeep's CPU in a MariaDB backup; dump text still shrinks about fourfold.
class StoredStreamWriter : public ByteWriter {
 public:
  StoredStreamWriter(RepositoryDumpSink& sink, std::string name)
      : sink_(sink),
        name_(std::move(name)),
        chunk_buffer_(sink.chunk_buffers_.take()),
        writer_(sink.repository_, sink.repository_.dump_chunker(), &chunk_buffer_, repo::CompressionEffort::fastest),
        gathered_(sink.gather_buffers_.take()) {
    gathered_.reserve(buffer_size);
  }
  ~StoredStreamWriter() override {
    {
      std::lock_guard lock(mutex_);
      waiting_.clear();  // not closed: an abandoned stream, nothing more of it is stored
    }
    stop();
    sink_.chunk_buffers_.give(std::move(chunk_buffer_));
    sink_.gather_buffers_.give(std::move(gathered_));
    for (Bytes& buffer : spare_) sink_.gather_buffers_.give(std::move(buffer));
  }

  void write(ByteView data) override {
    while (!data.empty()) {  // in pieces, so a buffer never outgrows (and reallocates past) its size
      size_t n = std::min(data.size(), buffer_size - gathered_.size());
      gathered_.insert(gathered_.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(n));
      data = data.subspan(n);
      if (gathered_.size() >= buffer_size) hand_over();
    }
  }

  void close() override {
    if (!gathered_.empty()) hand_over();
    stop();
    if (failure_) std::rethrow_exception(failure_);
    writer_.close();
    Node node;
    node.type = NodeType::file;
    node.mode = 0600;
    node.mtime_ns = node.atime_ns = node.ctime_ns = now_unix_nanos();
    node.size = writer_.size();
    node.content = writer_.content();
    sink_.add(name_, std::move(node));
  }

 private:
  static constexpr size_t buffer_size = 1 << 20;

  void hand_over() {
    std::unique_lock lock(mutex_);
    if (!storing_.valid()) storing_ = sink_.storing_threads_.run([this] { store(); });
    changed_.wait(lock, [&] { return waiting_.size() < 2 || failure_; });
    if (failure_) std::rethrow_exception(failure_);
    waiting_.push_back(std::move(gathered_));
    if (!spare_.empty()) {
      gathered_ = std::move(spare_.back());
      spare_.pop_back();
    } else {
      gathered_ = sink_.gather_buffers_.take();
    }
    gathered_.reserve(buffer_size);
    changed_.notify_all();
  }

  void store() {
    for (;;) {
      Bytes buffer;
      {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return !waiting_.empty() || done_; });
        if (waiting_.empty()) return;
        buffer = std::move(waiting_.front());
        waiting_.pop_front();
        changed_.notify_all();
      }
      try {
        writer_.write(buffer);
        buffer.clear();  // its memory serves again: a new buffer would fault in 256 fresh pages
        std::lock_guard lock(mutex_);
        spare_.push_back(std::move(buffer));
      } catch (...) {
        std::lock_guard lock(mutex_);
        failure_ = std::current_exception();
        waiting_.clear();
        changed_.notify_all();
        return;
      }
    }
  }

  // Lets the storing thread finish what waits (or give up after a failure) and joins it.
  void stop() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
      changed_.notify_all();
    }
    if (storing_.valid()) storing_.wait();
  }

  RepositoryDumpSink& sink_;
  std::string name_;
  Bytes chunk_buffer_;
  archiver::ChunkedWriter writer_;
  Bytes gathered_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Bytes> waiting_;
  std::vector<Bytes> spare_;  // stored buffers, for hand_over to fill again
  bool done_ = false;
  std::exception_ptr failure_;
  std::future<void> storing_;  // store() on one of the sink's threads
};

std::unique_ptr<ByteWriter> RepositoryDumpSink::create(const std::string& name) {
  for (size_t start = 0;;) {
    size_t slash = name.find('/', start);
    if (!repo::is_safe_name(name.substr(start, slash == std::string::npos ? std::string::npos : slash - start)))
      throw Error("invalid dump stream name: " + name);
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return std::make_unique<StoredStreamWriter>(*this, name);
}

void RepositoryDumpSink::add(const std::string& name, Node node) {
  std::lock_guard lock(mutex_);
  bytes_ += node.size;
  files_.emplace_back(name, std::move(node));
}

Bytes RepositoryDumpSink::Shelf::take() {
  std::lock_guard lock(mutex);
  if (buffers.empty()) return {};
  Bytes buffer = std::move(buffers.back());
  buffers.pop_back();
  return buffer;
}

void RepositoryDumpSink::Shelf::give(Bytes buffer) {
  if (buffer.capacity() == 0) return;
  buffer.clear();
  std::lock_guard lock(mutex);
  buffers.push_back(std::move(buffer));
}

uint64_t RepositoryDumpSink::bytes_written() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

namespace {

struct Directory {
  std::map<std::string, Directory> directories;
  std::vector<Node> files;
};

Id save_directory(repo::Repository& repository, Directory& directory) {
  repo::Tree tree;
  for (auto& file : directory.files) tree.nodes.push_back(file);
  int64_t now = now_unix_nanos();
  for (auto& [name, child] : directory.directories) {
    Node node;
    node.name = name;
    node.type = NodeType::directory;
    node.mode = 0700;
    node.mtime_ns = node.atime_ns = node.ctime_ns = now;
    node.subtree = save_directory(repository, child);
    tree.nodes.push_back(std::move(node));
  }
  return repo::save_tree(repository, std::move(tree));
}

void collect(repo::Repository& repository, const Id& tree, const std::string& prefix,
             std::vector<std::pair<std::string, Node>>& out, size_t depth = 0) {
  if (depth >= repo::max_tree_depth) throw IntegrityError("database backup tree is nested too deeply at " + prefix);
  for (const Node& node : repo::load_tree(repository, tree).nodes) {
    std::string name = prefix.empty() ? node.name : prefix + "/" + node.name;
    if (node.type == NodeType::directory && node.subtree)
      collect(repository, *node.subtree, name, out, depth + 1);
    else if (node.type == NodeType::file)
      out.emplace_back(name, node);
  }
}

// Reads a stream's blobs in order with the next few loaded ahead, each on a thread of its
// own (kept from blob to blob, with its decompression context and buffers): from a remote
// store a blob at a time would pay a round trip each, and locally the reader's thread would
// decrypt and decompress alone while the consumer (a server, tar) waits. Memory: at most
// `ahead` blobs.
class StoredStreamReader : public ByteReader {
 public:
  static constexpr size_t ahead = 8;

  StoredStreamReader(repo::Repository& repository, Node node) : repository_(repository), node_(std::move(node)) {}
  ~StoredStreamReader() override {
    for (auto& pending : pending_)
      if (pending.valid()) pending.wait();  // nothing may outlive the repository reference
  }
  size_t read(uint8_t* buffer, size_t capacity) override {
    while (offset_ == current_.size()) {
      while (pending_.size() < ahead && next_ < node_.content.size())
        pending_.push_back(load(node_.content[next_++]));
      if (pending_.empty()) return 0;
      current_ = pending_.front().get();  // rethrows a failed load's error
      pending_.pop_front();
      offset_ = 0;
    }
    size_t n = std::min(capacity, current_.size() - offset_);
    std::copy(current_.begin() + static_cast<long>(offset_), current_.begin() + static_cast<long>(offset_ + n), buffer);
    offset_ += n;
    return n;
  }

 private:
  std::future<Bytes> load(const Id& id) {
    return loaders_.run([this, id] { return repository_.load_blob(id); });
  }

  repo::Repository& repository_;
  Node node_;
  size_t next_ = 0;
  std::deque<std::future<Bytes>> pending_;
  Bytes current_;
  size_t offset_ = 0;
  ReusedThreads loaders_;  // last: joined first, before what the loads use
};

}  // namespace

Id RepositoryDumpSink::finish() {
  std::lock_guard lock(mutex_);
  Directory root;
  for (auto& [name, node] : files_) {
    Directory* directory = &root;
    size_t start = 0;
    for (size_t slash; (slash = name.find('/', start)) != std::string::npos; start = slash + 1)
      directory = &directory->directories[name.substr(start, slash - start)];
    Node file = node;
    file.name = name.substr(start);
    directory->files.push_back(std::move(file));
  }
  return save_directory(repository_, root);
}

RepositoryDumpSource::RepositoryDumpSource(repo::Repository& repository, const Id& tree) : repository_(repository) {
  collect(repository, tree, "", files_);
}

std::vector<std::string> RepositoryDumpSource::names() {
  std::vector<std::string> names;
  for (const auto& [name, node] : files_) names.push_back(name);
  return names;
}

std::unique_ptr<ByteReader> RepositoryDumpSource::open(const std::string& name) {
  for (const auto& [candidate, node] : files_)
    if (candidate == name) return std::make_unique<StoredStreamReader>(repository_, node);
  throw Error("the database backup has no stream " + name);
}

}  // namespace obkeep::db
