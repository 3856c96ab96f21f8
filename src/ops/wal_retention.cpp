#include "ops/wal_retention.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "db/postgres/wal_file.hpp"

namespace obkeep::ops {

namespace {

using db::WalFile;

std::string stanza_of(const repo::Snapshot& snapshot) {
  std::string stanza = snapshot.tag_value("stanza");
  return stanza.empty() ? "main" : stanza;
}

bool is_base_backup(const repo::Snapshot& snapshot) {
  return snapshot.has_tag("set=databases") && snapshot.has_tag("engine=postgresql-base");
}

}  // namespace

std::optional<WalBase> wal_base_of(const repo::Snapshot& snapshot) {
  if (!is_base_backup(snapshot) || !snapshot.summary.contains("wal") || !snapshot.summary["wal"].is_object()) return std::nullopt;
  const nlohmann::json& wal = snapshot.summary["wal"];
  if (!wal.contains("start_file") || !wal["start_file"].is_string() || !wal.contains("segment_bytes") ||
      !wal["segment_bytes"].is_number_unsigned())
    return std::nullopt;
  WalBase base;
  base.snapshot = snapshot.id;
  base.time_ns = snapshot.time_ns;
  base.stanza = stanza_of(snapshot);
  base.segment_bytes = wal["segment_bytes"].get<uint64_t>();
  std::optional<WalFile> start = db::parse_wal_file(wal["start_file"].get<std::string>(), base.segment_bytes);
  if (!start || start->kind != WalFile::Kind::segment) return std::nullopt;
  base.timeline = start->timeline;
  base.start_segment = start->segment;
  return base;
}

namespace {

// Per stanza: the base backup whose replay starts earliest (its segment size also says how
// the stanza's files are named).
std::map<std::string, WalBase> oldest_bases(const std::vector<repo::Snapshot>& snapshots) {
  std::map<std::string, WalBase> oldest;
  for (const repo::Snapshot& snapshot : snapshots)
    if (std::optional<WalBase> base = wal_base_of(snapshot)) {
      auto [slot, fresh] = oldest.try_emplace(base->stanza, *base);
      if (!fresh && base->start_segment < slot->second.start_segment) slot->second = *base;
    }
  return oldest;
}

}  // namespace

std::vector<repo::ArchiveEntry> wal_entries_to_forget(const std::vector<repo::ArchiveEntry>& entries,
                                                       const std::vector<repo::Snapshot>& kept) {
  // Per stanza: the oldest start among its kept base backups. A base that cannot say where
  // it starts (taken by an older obkeep) makes its stanza's needs unknown.
  std::map<std::string, WalBase> oldest = oldest_bases(kept);
  std::set<std::string> unknown;
  for (const repo::Snapshot& snapshot : kept)
    if (is_base_backup(snapshot) && !wal_base_of(snapshot)) unknown.insert(stanza_of(snapshot));
  std::vector<repo::ArchiveEntry> out;
  for (const repo::ArchiveEntry& entry : entries) {
    if (entry.key.kind != "wal" || unknown.count(entry.key.stanza)) continue;
    auto found = oldest.find(entry.key.stanza);
    if (found == oldest.end()) continue;
    std::optional<WalFile> file = db::parse_wal_file(entry.key.file, found->second.segment_bytes);
    if (!file || file->kind == WalFile::Kind::timeline_history) continue;
    if (file->segment < found->second.start_segment) out.push_back(entry);
  }
  return out;
}

std::vector<std::string> wal_gap_warnings(const std::vector<repo::ArchiveEntry>& entries,
                                          const std::vector<repo::Snapshot>& snapshots) {
  // From the oldest base backup's start (older WAL is not needed), or the oldest segment.
  std::map<std::string, WalBase> bases = oldest_bases(snapshots);
  auto segment_bytes = [&](const std::string& stanza) {
    auto base = bases.find(stanza);
    return base == bases.end() ? db::default_wal_segment_bytes : base->second.segment_bytes;
  };
  std::map<std::string, std::map<uint64_t, std::string>> segments;  // stanza → segment → a file holding it
  for (const repo::ArchiveEntry& entry : entries) {
    if (entry.key.kind != "wal") continue;
    std::optional<WalFile> file = db::parse_wal_file(entry.key.file, segment_bytes(entry.key.stanza));
    if (file && (file->kind == WalFile::Kind::segment || file->kind == WalFile::Kind::partial))
      segments[entry.key.stanza].emplace(file->segment, entry.key.file);
  }
  std::vector<std::string> warnings;
  for (const auto& stanza_segments : segments) {
    const std::string& stanza = stanza_segments.first;
    const std::map<uint64_t, std::string>& present = stanza_segments.second;
    uint64_t bytes = segment_bytes(stanza);
    auto found = bases.find(stanza);
    std::optional<WalBase> oldest = found == bases.end() ? std::nullopt : std::optional<WalBase>(found->second);
    uint64_t from = oldest ? oldest->start_segment : present.begin()->first;
    uint32_t timeline = oldest ? oldest->timeline : db::parse_wal_file(present.begin()->second, bytes)->timeline;
    auto name = [&](uint64_t segment) {
      auto held = present.find(segment);
      return held != present.end() ? held->second : db::wal_segment_name(timeline, segment, bytes);
    };
    uint64_t expected = from;
    for (const auto& [segment, file] : present) {
      if (segment < from) continue;
      if (segment > expected)
        warnings.push_back("the WAL archive of stanza " + stanza + " lacks " + name(expected) +
                           (segment - 1 > expected ? " to " + db::wal_segment_name(timeline, segment - 1, bytes) : "") +
                           ": a recovery cannot pass " +
                           (expected > from ? name(expected - 1) : "the start of the base backup") + " (it goes on at " +
                           file + ")");
      expected = segment + 1;
    }
  }
  return warnings;
}

}  // namespace obkeep::ops
