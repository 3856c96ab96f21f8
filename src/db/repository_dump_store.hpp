// Database dumps stored in the repository: each stream becomes a file of a snapshot tree,
// chunked and deduplicated as it is written (no temporary copy on disk).
#pragma once

#include <mutex>
#include <vector>

#include "db/dump_store.hpp"
#include "repo/node.hpp"
#include "repo/repository.hpp"
#include "util/reused_threads.hpp"

namespace obkeep::db {

class RepositoryDumpSink : public DumpSink {
 public:
  explicit RepositoryDumpSink(repo::Repository& repository) : repository_(repository) {}
  std::unique_ptr<ByteWriter> create(const std::string& name) override;
  // Saves the trees of everything closed so far; returns the root tree id.
  Id finish();
  uint64_t bytes_written() const;

 private:
  friend class StoredStreamWriter;
  void add(const std::string& name, repo::Node node);

  // Buffers a closed stream leaves for the next: a new one would fault in its pages again,
  // and a dump of many key ranges opens hundreds of streams.
  struct Shelf {
    std::mutex mutex;
    std::vector<Bytes> buffers;
    Bytes take();
    void give(Bytes buffer);
  };

  repo::Repository& repository_;
  mutable std::mutex mutex_;
  std::vector<std::pair<std::string, repo::Node>> files_;
  uint64_t bytes_ = 0;
  Shelf gather_buffers_, chunk_buffers_;
  ReusedThreads storing_threads_;  // last: their jobs use the rest
};

class RepositoryDumpSource : public DumpSource {
 public:
  RepositoryDumpSource(repo::Repository& repository, const Id& tree);
  std::vector<std::string> names() override;
  std::unique_ptr<ByteReader> open(const std::string& name) override;

 private:
  repo::Repository& repository_;
  std::vector<std::pair<std::string, repo::Node>> files_;
};

}  // namespace obkeep::db
