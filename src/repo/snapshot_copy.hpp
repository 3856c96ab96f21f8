// Copies snapshots from one repository into another (a disaster-recovery site), sending
// only the blobs the destination lacks. See docs/design.md, "Copies to DR sites".
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "repo/archive_entry.hpp"
#include "repo/repository.hpp"
#include "repo/snapshot.hpp"
#include "repo/tree_walk.hpp"

namespace obkeep::repo {

struct CopyStatistics {
  uint64_t snapshots_copied = 0;
  uint64_t snapshots_present = 0;  // already in the destination: skipped
  uint64_t blobs_copied = 0;
  uint64_t bytes_copied = 0;       // plaintext bytes of the blobs copied
  uint64_t archive_entries_copied = 0;
};

// What a copy's destination holds as the copy starts.
struct CopyDestinationContents {
  std::vector<Snapshot> snapshots;
  std::vector<Id> archive_entries;  // sorted
};

// Readies a copy's destination, locked by the caller: loads its index, adopts the packs a
// copy cut before left unindexed (what it sent is not sent again) and lists what it holds,
// the listings side by side on a remote store. A destination `created` by this copy a
// moment ago holds nothing: no listing is asked for.
CopyDestinationContents ready_copy_destination(Repository& destination, bool created = false);

class SnapshotCopier {
 public:
  // Both repositories open with their indexes loaded (the destination's by
  // ready_copy_destination, which gave `present`); the caller holds a lock on each.
  SnapshotCopier(Repository& source, Repository& destination, CopyDestinationContents present, unsigned workers = 0);

  // Related repositories (`init --copy-params-from`) share the blob id key: a blob has
  // the same id in both, so what the destination has is known from its index and trees
  // are copied as they are. Otherwise every blob of a snapshot is read and hashed with
  // the destination's key, and trees are rewritten with the new ids.
  bool related() const { return related_; }

  // Copies one snapshot of the source unless the destination has it already (a snapshot
  // whose `original` is the same). Returns the destination's snapshot id. Every blob is
  // durable in the destination before the snapshot is written, so a copy killed at any
  // point leaves at most unreferenced packs.
  Id copy(const Snapshot& snapshot);

  // Copies the archive entries (WAL files, binlog pieces: repo/archive_entry.hpp) that the
  // destination lacks: their data blobs, a flush, then each entry under the destination's
  // name with the blobs' places there, each then passed to `copied` (when given). Returns
  // how many were copied.
  size_t copy_archive_entries(const std::function<void(const ArchiveEntry&)>& copied = {});

  const CopyStatistics& statistics() const { return statistics_; }

 private:
  void collect(const Id& tree, std::vector<Id>& data, std::vector<Id>& trees);
  // The blobs (of one type) the destination lacks, read in batches of neighbouring pack
  // space, several batches at once.
  void transfer(const std::vector<Id>& blobs, BlobType type);
  Id rebuild(const Id& tree);

  Repository& source_;
  Repository& destination_;
  unsigned workers_;
  bool related_;
  // Related, and the source's seals prove each blob's id: data blobs are sealed again as
  // stored, never decompressed and compressed again.
  bool reseal_;
  CopyStatistics statistics_;
  std::unordered_map<Id, Id, IdHash> copied_snapshots_;  // original id → destination snapshot
  std::vector<Id> archive_entries_present_;               // sorted
  std::unordered_set<Id, IdHash> trees_seen_;             // this run, over all snapshots
  std::unique_ptr<TreeWalker> walker_;                    // made at the first walk (the index is loaded)
  mutable std::mutex mutex_;                              // guards mapped_ and statistics_
  std::unordered_map<Id, Id, IdHash> mapped_;             // source blob → destination blob
};

}  // namespace obkeep::repo
