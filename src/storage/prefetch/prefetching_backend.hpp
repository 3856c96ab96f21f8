// A Backend wrapper that lists and loads every object of some types in the background from
// the moment it is made. A restore from a far site needs the index and the snapshots, and
// fetches them only once it has opened the repository (its key, then its config) and taken
// its lock: two round trips of listing and loading after three of opening and locking.
// Fetched during those, they are there when asked for.
//
// The command still lists these objects itself, after its lock, and that listing is the
// truth: a prefetched object is only handed out when the command asks for it by name. Index
// and snapshot files are named by the hash of their content (Repository::load_object checks
// it), so a prefetched object is exactly what loading that name would return. A name the
// prefetch did not find, or whose load failed, is loaded as usual.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "storage/forwarding_backend.hpp"

namespace obkeep::storage {

class PrefetchingBackend : public ForwardingBackend {
 public:
  PrefetchingBackend(std::unique_ptr<Backend> inner, std::vector<FileType> types);
  ~PrefetchingBackend() override;  // lets loads under way end, starts no more

  // A whole object of a prefetched type: the prefetched bytes, once (a second load of the
  // same name goes to the store).
  Bytes load(const Handle& handle, uint64_t offset, uint64_t length) override;

  // Objects handed out from the prefetch (tests).
  uint64_t served() const { return served_; }

 private:
  struct Fetched {
    bool done = false, failed = false;
    Bytes data;
  };
  void prefetch(FileType type);

  std::vector<FileType> types_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::set<FileType> listed_;  // types whose listing ended (or failed)
  std::map<std::pair<FileType, std::string>, Fetched> objects_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> served_{0};
  std::thread thread_;
};

// `backend` wrapped to prefetch `types` when it is remote (on a local disk a load costs no
// round trip) and `types` is not empty; else `backend` itself.
std::unique_ptr<Backend> with_prefetch(std::unique_ptr<Backend> backend, const std::vector<FileType>& types);

}  // namespace obkeep::storage
