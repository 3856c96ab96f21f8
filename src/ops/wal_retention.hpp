// The WAL archive of each stanza read against the PostgreSQL base backups that replay it:
// which WAL files retention may remove, and where the archive has holes. A base backup says
// where its replay starts (summary "wal": start_file, segment_bytes) and which archive it
// reads (tag stanza=<name>; "main" when it has none).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "repo/archive_entry.hpp"
#include "repo/snapshot.hpp"

namespace obkeep::ops {

struct WalBase {
  Id snapshot;
  int64_t time_ns = 0;
  std::string stanza;
  uint32_t timeline = 0;
  uint64_t start_segment = 0;
  uint64_t segment_bytes = 0;
};

// The base backup `snapshot` is, when it is one that says where its replay starts.
std::optional<WalBase> wal_base_of(const repo::Snapshot& snapshot);

// The WAL entries no kept base backup needs: per stanza, the segments, partial segments and
// backup history files before the start of the oldest kept base backup of that stanza.
// Timeline history files stay (a few bytes each; a recovery onto a later timeline reads them
// all). A stanza with a kept base backup that does not say where it starts, or with none:
// nothing is known to be unneeded, so nothing.
std::vector<repo::ArchiveEntry> wal_entries_to_forget(const std::vector<repo::ArchiveEntry>& entries,
                                                       const std::vector<repo::Snapshot>& kept);

// One line per hole in each stanza's WAL, from the start of its oldest base backup (or its
// oldest segment, with none) to its newest segment: "the WAL archive of stanza main lacks
// 000000010000000000000005 to …07: recovery cannot pass …04".
std::vector<std::string> wal_gap_warnings(const std::vector<repo::ArchiveEntry>& entries,
                                          const std::vector<repo::Snapshot>& snapshots);

}  // namespace obkeep::ops
