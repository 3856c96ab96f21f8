// Repository locks: shared for backups, exclusive for prune; stale ones are detected.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "util/bytes.hpp"
#include "util/id.hpp"
#include "util/interrupt.hpp"

namespace obkeep::repo {

class Repository;

struct LockInfo {
  Id id;
  int64_t time_ns = 0;
  bool exclusive = false;
  std::string hostname;
  std::string username;
  int pid = 0;
  bool stale = false;
  bool holder_gone = false;  // its process, on this host, no longer exists: certainly stale
  std::string stale_reason;
};

// A lock older than this without being refreshed is stale (its holder refreshes it
// every refresh interval while it works).
constexpr int64_t stale_lock_age_ns = 30LL * 60 * 1000000000;
constexpr int refresh_interval_s = 5 * 60;

// A lock object's JSON text (id, time, holder); `stale` is left for list_locks to judge.
// Throws IntegrityError naming the lock.
LockInfo decode_lock(ByteView text, const Id& id);

// The repository's locks, read in parallel; `except` (our own) is not read. Locks that
// vanish or cannot be read meanwhile are left out.
std::vector<LockInfo> list_locks(Repository& repository, const std::optional<Id>& except = std::nullopt);

// Holds a lock until destroyed; a background thread refreshes it.
class RepositoryLock {
 public:
  // Throws Error(locked) when a conflicting live lock exists. `alongside` (reads only: the
  // index and snapshots a command starts from) runs once the lock is saved, beside the
  // listing of the other locks: from a far site that saves the listing's round trip. It
  // reads what it would read after the check: with our lock saved, a prune either saw it
  // and backed off, or holds its own lock, which the listing finds (and the constructor
  // then throws, whatever `alongside` read).
  //
  // `early` (reads only) runs while our lock is being saved, before anything guards what it
  // reads: a prune may end in between and replace index files it loaded, so `alongside`
  // must check what it read (Repository::index_is_current). From a far site it starts
  // what needs the index (a restore's trees) two or three round trips sooner. A failure of
  // `early` is reported like one of `alongside`.
  RepositoryLock(Repository& repository, bool exclusive, const std::function<void()>& alongside = {},
                 const std::function<void()>& early = {});
  ~RepositoryLock();
  RepositoryLock(const RepositoryLock&) = delete;
  RepositoryLock& operator=(const RepositoryLock&) = delete;

 private:
  Id write_lock();
  void refresh_loop();

  Id current_id();
  void remove_current();
  void remove_quietly(const Id& id);  // never throws, not even after a signal
  void release();  // unregisters the emergency removal, then removes the lock

  Repository& repository_;
  bool exclusive_;
  std::mutex id_mutex_;  // guards id_: the refresher replaces it, an emergency exit removes it
  Id id_;
  std::unique_ptr<EmergencyCleanup> emergency_removal_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread refresher_;
};

// Removes stale locks (or all with `all`); returns how many were removed.
int remove_locks(Repository& repository, bool all);

}  // namespace obkeep::repo
