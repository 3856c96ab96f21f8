// The asynchronous WAL push (wal-push --async): archive_command copies the WAL file into a
// local spool, durably, and returns at once; a drainer process pushes spooled files to the
// repository several at a time and removes each once its entry is stored. A failure the
// drainer meets is kept in the spool until a drain succeeds, and every wal-push --async
// call meanwhile fails with it, so PostgreSQL keeps its WAL and logs why (as pgBackRest's
// archive-async does). See docs/design.md, "WAL archive".
//
// Layout, for a spool folder D and stanza S: D/S/queue/<WAL file name> (spooled files;
// ".obkeep-tmp" names are half-written copies, ignored), D/S/drain.lock (flock'ed by the
// one running drainer), D/S/failure (the last failure, one line), D/S/drain.log (the
// drainer's stderr).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "repo/repository.hpp"

namespace obkeep::db {

class WalSpool {
 public:
  // Creates the folders when missing.
  WalSpool(const std::string& directory, const std::string& stanza);

  const std::string& stanza() const { return stanza_; }
  std::string folder() const { return folder_; }
  std::string log_path() const { return folder_ + "/drain.log"; }
  const std::string& queue() const { return queue_; }

  // Copies the WAL file at `path` into the queue: after this returns it survives a crash.
  void add(const std::string& path);
  // The failure the last drain reported, if it has not succeeded since.
  std::optional<std::string> failure() const;
  // True when no drainer holds the lock (one should be started).
  bool drainer_missing() const;
  // True when files wait in the queue.
  bool has_queued_files() const;

 private:
  std::string stanza_;
  std::string folder_;
  std::string queue_;
};

struct DrainOptions {
  size_t batch_files = 16;   // files pushed together: one flush, their entries in parallel
  int linger_ms = 2000;      // how long an empty queue is watched before the drainer ends
};

// Pushes the spool's files until its queue stays empty for linger_ms, then ends; a second
// drainer (the lock is held) returns at once. `open` opens the repository, once, at the
// first file. Returns false after a failure, which is then recorded in the spool (the
// failed files stay queued for the next drain); true when everything was pushed.
bool drain_wal_spool(WalSpool& spool, const std::function<std::unique_ptr<repo::Repository>()>& open,
                     const DrainOptions& options = {});

}  // namespace obkeep::db
