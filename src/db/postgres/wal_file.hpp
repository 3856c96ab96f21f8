// PostgreSQL's WAL file names, which say where each file sits in the log: a segment
// "TTTTTTTTXXXXXXXXYYYYYYYY" (timeline, then the segment number in two halves), its last
// piece on a timeline that ended "<segment>.partial", a backup history file
// "<segment>.XXXXXXXX.backup", and a timeline history file "TTTTTTTT.history".
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace obkeep::db {

constexpr uint64_t default_wal_segment_bytes = 16 * 1024 * 1024;

struct WalFile {
  enum class Kind { segment, partial, backup_history, timeline_history };
  Kind kind = Kind::segment;
  uint32_t timeline = 0;
  uint64_t segment = 0;  // the linear segment number (not set for a timeline history)
};

// What `name` is; nullopt when it is no WAL file name, or names a segment that cannot exist
// with segments of `segment_bytes` (a power of two from 1 MiB to 1 GiB).
std::optional<WalFile> parse_wal_file(const std::string& name, uint64_t segment_bytes);

// The name of segment `segment` on `timeline`.
std::string wal_segment_name(uint32_t timeline, uint64_t segment, uint64_t segment_bytes);

// "16/B374D848" → 0x16B374D848; nullopt when it is not an LSN.
std::optional<uint64_t> parse_lsn(const std::string& text);

// The segment holding `lsn`.
inline uint64_t lsn_segment(uint64_t lsn, uint64_t segment_bytes) { return lsn / segment_bytes; }

}  // namespace obkeep::db
