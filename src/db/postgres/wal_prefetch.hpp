// Prefetching archived WAL for restore_command (wal-fetch --prefetch N --spool DIR):
// PostgreSQL asks for one WAL file at a time and replays it before asking for the next, so
// from a remote repository each file costs its round trips while the replay waits. Here
// each wal-fetch records the file asked for, and a background prefetcher (one per spool,
// as pgBackRest's archive-get --archive-async) keeps the next N segments of that timeline
// fetched, several at a time, into the spool; a wal-fetch then moves its file out of the
// spool instead of fetching it. See docs/design.md, "WAL archive".
//
// Layout, for a spool folder D and stanza S: D/S/prefetch/<WAL file name> (complete files;
// ".obkeep-tmp" names are being written), D/S/prefetch.want ("<name> <segment bytes>": the
// file asked for last), D/S/prefetch.lock (flock'ed by the running prefetcher),
// D/S/prefetch.log (its stderr).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "repo/repository.hpp"

namespace obkeep::db {

class WalPrefetch {
 public:
  // Creates the folders when missing.
  WalPrefetch(const std::string& directory, const std::string& stanza);

  const std::string& stanza() const { return stanza_; }
  std::string log_path() const { return folder_ + "/prefetch.log"; }

  // Moves the prefetched file `name` to `destination` (durably); false when it is not here.
  bool take(const std::string& name, const std::string& destination);
  // Records that `name` (a segment of `segment_bytes`) was asked for, and drops the files
  // before it: a recovery goes forward and never asks for them again.
  void want(const std::string& name, uint64_t segment_bytes);
  // The size of the prefetched file `name`, when it is here.
  std::optional<uint64_t> prefetched_size(const std::string& name) const;
  // Whether `name` still lies ahead of the last request (a file fetched for an older one may
  // have been asked for and fetched directly meanwhile).
  bool ahead_of_request(const std::string& name) const;
  // Drops every prefetched file (the archive ended: what lies ahead is of no use).
  void discard_all();
  // The segments after the last one asked for, up to `count`, that are not here yet; empty
  // when none was asked for or it was no segment.
  std::vector<std::string> missing_ahead(size_t count) const;
  // True when no prefetcher holds the lock (one should be started).
  bool prefetcher_missing() const;
  // The last request, as prefetch.want holds it ("" when none).
  std::string request() const;

  std::string file_path(const std::string& name) const { return files_ + "/" + name; }
  std::string lock_path() const { return folder_ + "/prefetch.lock"; }

 private:
  std::string stanza_;
  std::string folder_;
  std::string files_;
};

struct PrefetchOptions {
  size_t ahead = 8;         // segments kept fetched after the last one asked for
  unsigned parallel = 4;    // fetched at once
  int linger_ms = 3000;     // how long the prefetcher waits for a new request before it ends
};

// The prefetcher: keeps the segments ahead of the last request fetched until no request
// comes for linger_ms; at the end of the archive (a file it lacks) it waits for the next
// request rather than asking again. Returns at once when another prefetcher runs.
// Returns the number of files fetched.
size_t run_wal_prefetcher(WalPrefetch& spool, repo::Repository& repository, const PrefetchOptions& options = {});

}  // namespace obkeep::db
