#include "ops/binlog_archive.hpp"

#include "util/error.hpp"
#include <algorithm>
#include <map>

#include "repo/tree.hpp"
#include "util/host.hpp"

namespace obkeep::ops {

namespace {

std::string at(const std::string& file, uint64_t position) { return file + ":" + std::to_string(position); }

}  // namespace

std::vector<std::string> binlog_tags(const std::string& database_id, const std::string& file) {
  // Not database=<id>: what finds a database's backups must not find its binlog pieces.
  return {"set=binlog", "binlog-database=" + database_id, "binlog=" + file};
}

nlohmann::json binlog_piece_summary(const BinlogPiece& piece) {
  nlohmann::json binlog = {{"file", piece.file},
                           {"start", piece.start},
                           {"end", piece.end},
                           {"recovery_point_ns", piece.recovery_point_ns}};
  if (!piece.next_file.empty()) binlog["next_file"] = piece.next_file;
  if (!piece.gap.empty()) binlog["gap"] = piece.gap;
  if (!piece.database_name.empty()) binlog["database_name"] = piece.database_name;
  if (!piece.gtids.empty()) binlog["gtids"] = db::to_string(piece.gtids);
  return {{"binlog", binlog}, {"bytes_processed", piece.end - piece.start}};
}

BinlogPiece binlog_piece_from_summary(const nlohmann::json& summary, const std::string& what) {
  BinlogPiece piece;
  try {
    const nlohmann::json& binlog = summary.at("binlog");
    piece.file = binlog.at("file").get<std::string>();
    piece.start = binlog.at("start").get<uint64_t>();
    piece.end = binlog.at("end").get<uint64_t>();
    piece.recovery_point_ns = binlog.at("recovery_point_ns").get<int64_t>();
    piece.next_file = binlog.value("next_file", "");
    piece.gap = binlog.value("gap", "");
    piece.database_name = binlog.value("database_name", "");
    std::optional<db::GtidPosition> gtids = db::parse_gtid_position(binlog.value("gtids", ""));
    if (!gtids) throw IntegrityError(what + " has malformed gtids");
    piece.gtids = std::move(*gtids);
  } catch (const nlohmann::json::exception& e) {
    throw IntegrityError(what + ": " + e.what());
  }
  if (piece.end < piece.start || !repo::is_safe_name(piece.file) || (!piece.next_file.empty() && !repo::is_safe_name(piece.next_file)))
    throw IntegrityError(what + " is malformed");
  return piece;
}

std::optional<BinlogPiece> binlog_piece_of(const repo::Snapshot& snapshot) {
  if (!snapshot.has_tag("set=binlog") || !snapshot.summary.contains("binlog")) return std::nullopt;
  BinlogPiece piece = binlog_piece_from_summary(snapshot.summary, "binlog piece " + snapshot.id.short_hex());
  piece.snapshot = snapshot.id;
  piece.saved_ns = snapshot.time_ns;
  if (piece.database_name.empty()) piece.database_name = snapshot.tag_value("binlog-database");
  return piece;
}

bool binlog_pieces_join(const BinlogPiece& previous, const BinlogPiece& next) {
  if (!next.gap.empty()) return false;
  if (previous.next_file.empty()) return next.file == previous.file && next.start == previous.end;
  return next.file == previous.next_file && next.start == 0;
}

BinlogArchive::BinlogArchive(const std::vector<repo::Snapshot>& snapshots, const std::string& database_id) {
  for (const repo::Snapshot& snapshot : snapshots)
    if (snapshot.has_tag("binlog-database=" + database_id))
      if (auto piece = binlog_piece_of(snapshot)) pieces_.push_back(std::move(*piece));
}

std::string BinlogArchive::resume_file() const {
  if (pieces_.empty()) return "";
  return pieces_.back().next_file.empty() ? pieces_.back().file : pieces_.back().next_file;
}

uint64_t BinlogArchive::resume_position() const {
  if (pieces_.empty() || !pieces_.back().next_file.empty()) return 0;
  return pieces_.back().end;
}

std::vector<BinlogGap> BinlogArchive::gaps() const {
  std::vector<BinlogGap> out;
  for (size_t i = 1; i < pieces_.size(); ++i) {
    const BinlogPiece& previous = pieces_[i - 1];
    const BinlogPiece& next = pieces_[i];
    if (binlog_pieces_join(previous, next)) continue;
    std::string after = previous.next_file.empty() ? at(previous.file, previous.end) : at(previous.next_file, 0);
    out.push_back({after, at(next.file, next.start), next.gap.empty() ? "the pieces do not join" : next.gap, next.saved_ns});
  }
  return out;
}

namespace {

// The newest piece of `file` whose range holds `position`, or npos.
size_t piece_holding(const std::vector<BinlogPiece>& pieces, const std::string& file, uint64_t position) {
  for (size_t i = pieces.size(); i-- > 0;)
    if (pieces[i].file == file && pieces[i].start <= position && position <= pieces[i].end) return i;
  return std::string::npos;
}

}  // namespace

std::optional<int64_t> BinlogArchive::reachable_from(const std::string& file, uint64_t position) const {
  size_t i = piece_holding(pieces_, file, position);
  if (i == std::string::npos) return std::nullopt;
  while (i + 1 < pieces_.size() && binlog_pieces_join(pieces_[i], pieces_[i + 1])) ++i;
  return pieces_[i].recovery_point_ns;
}

bool piece_passes(const BinlogPiece& piece, const BinlogTarget& target) {
  if (!target.gtid) return piece.recovery_point_ns >= target.until_ns;
  auto found = piece.gtids.find(target.gtid->domain);
  return found != piece.gtids.end() && found->second.sequence > target.gtid->sequence;
}

std::string BinlogTarget::describe() const { return gtid ? "GTID " + gtid->to_string() : format_rfc3339(until_ns); }

std::vector<BinlogPiece> BinlogArchive::pieces_for(const std::string& file, uint64_t position, int64_t until_ns,
                                                   const std::string& database_name) const {
  return pieces_for(file, position, BinlogTarget{until_ns, std::nullopt}, database_name);
}

std::vector<BinlogPiece> BinlogArchive::pieces_for(const std::string& file, uint64_t position, const BinlogTarget& target,
                                                   const std::string& database_name) const {
  std::string what = "the binlog archive of " + database_name;
  size_t holding = piece_holding(pieces_, file, position);
  if (holding == std::string::npos)
    throw Error(what + " does not hold " + at(file, position) + ", where the backup ends" +
                (pieces_.empty() ? " (it is empty: is obkeep binlog-archive running?)" : ""));
  size_t first = holding;
  while (pieces_[first].start != 0) {
    if (first == 0 || !binlog_pieces_join(pieces_[first - 1], pieces_[first]))
      throw Error(what + " holds " + file + " only from offset " + std::to_string(pieces_[first].start) +
                  "; a replay needs the file from its beginning");
    --first;
  }
  // Past the target: a later transaction of the GTID's domain begins in the piece (or, by
  // time, the piece's recovery point reaches it).
  std::optional<db::Gtid> seen;  // the newest GTID of the target's domain met so far
  auto past = [&](const BinlogPiece& piece) {
    if (target.gtid)
      if (auto found = piece.gtids.find(target.gtid->domain); found != piece.gtids.end())
        if (!seen || seen->sequence < found->second.sequence) seen = found->second;
    return piece_passes(piece, target);
  };
  auto reached = [&] { return target.gtid && seen && seen->sequence >= target.gtid->sequence; };
  auto newest = [&](size_t last) {
    return target.gtid ? (seen ? "GTID " + seen->to_string() : "no transaction of domain " + std::to_string(target.gtid->domain))
                       : format_rfc3339(pieces_[last].recovery_point_ns);
  };
  size_t last = holding;
  while (!past(pieces_[last])) {
    bool joins = last + 1 < pieces_.size() && binlog_pieces_join(pieces_[last], pieces_[last + 1]);
    if (!joins && reached()) break;  // the target began; its commit is in what is archived, or not yet
    if (last + 1 == pieces_.size())
      throw Error(what + " reaches only " + newest(last) + ", before the " + (target.gtid ? "GTID" : "time") + " asked for");
    if (!joins)
      throw Error(what + " has a gap after " + format_rfc3339(pieces_[last].recovery_point_ns) + " (" +
                  (pieces_[last + 1].gap.empty() ? "the pieces do not join" : pieces_[last + 1].gap) +
                  "): the newest reachable point from this backup is " + newest(last));
    ++last;
  }
  return {pieces_.begin() + static_cast<std::ptrdiff_t>(first), pieces_.begin() + static_cast<std::ptrdiff_t>(last) + 1};
}

bool is_rollable_backup(const repo::Snapshot& snapshot) {
  if (!snapshot.has_tag("set=databases") || !snapshot.summary.contains("binlog")) return false;
  const nlohmann::json& binlog = snapshot.summary["binlog"];
  return binlog.is_object() && binlog.contains("file") && binlog["file"].is_string() && binlog.contains("position") &&
         binlog["position"].is_number_unsigned();
}

namespace {

// A PostgreSQL base backup that says where its WAL replay starts (ops/wal_retention.hpp).
bool is_wal_base(const repo::Snapshot& snapshot) {
  return snapshot.has_tag("set=databases") && snapshot.has_tag("engine=postgresql-base") && snapshot.summary.contains("wal");
}

}  // namespace

std::vector<Id> backups_for_window(const std::vector<repo::Snapshot>& snapshots, int64_t window_start_ns) {
  // Per database id: the newest backup at or before the window's start, else (the window
  // reaches back past every backup) the oldest, from which the most of it is reachable.
  std::map<std::string, const repo::Snapshot*> base;
  for (const repo::Snapshot& snapshot : snapshots) {
    if (!(is_rollable_backup(snapshot) || is_wal_base(snapshot))) continue;
    const repo::Snapshot*& slot = base[snapshot.tag_value("database")];
    bool before = snapshot.time_ns <= window_start_ns;
    if (!slot) slot = &snapshot;
    else if (before && (slot->time_ns > window_start_ns || slot->time_ns < snapshot.time_ns)) slot = &snapshot;
    else if (!before && slot->time_ns > window_start_ns && snapshot.time_ns < slot->time_ns) slot = &snapshot;
  }
  std::vector<Id> ids;
  for (const auto& [database, snapshot] : base) ids.push_back(snapshot->id);
  return ids;
}

std::vector<BinlogPiece> binlog_pieces_to_forget(const std::vector<repo::Snapshot>& kept, int64_t window_start_ns,
                                                 const std::map<std::string, BinlogArchive>* archives) {
  std::map<std::string, const repo::Snapshot*> oldest;  // per database id: the oldest kept backup with a position
  for (const repo::Snapshot& snapshot : kept) {
    if (!is_rollable_backup(snapshot)) continue;
    const repo::Snapshot*& slot = oldest[snapshot.tag_value("database")];
    if (!slot || slot->time_ns > snapshot.time_ns) slot = &snapshot;
  }
  std::vector<BinlogPiece> forget;
  for (const auto& [database, backup] : oldest) {
    std::optional<BinlogArchive> own;
    const BinlogArchive* archive = nullptr;
    if (archives) {
      auto found = archives->find(database);
      if (found == archives->end()) continue;
      archive = &found->second;
    } else {
      archive = &own.emplace(kept, database);
    }
    const nlohmann::json& position = backup->summary["binlog"];
    std::string file = position["file"].get<std::string>();
    const auto& pieces = archive->pieces();
    // The archive order's first piece of that file: a replay reads the file from its start.
    auto first = std::find_if(pieces.begin(), pieces.end(), [&](const BinlogPiece& piece) { return piece.file == file; });
    if (first == pieces.end()) continue;  // the archive never held it: nothing is known to be unneeded
    for (auto piece = pieces.begin(); piece != first; ++piece)
      if (piece->saved_ns < window_start_ns) forget.push_back(*piece);
  }
  return forget;
}

std::vector<std::string> binlog_gap_warnings(const std::vector<repo::Snapshot>& snapshots) {
  std::vector<std::string> databases;
  for (const repo::Snapshot& snapshot : snapshots) {
    std::string id = snapshot.tag_value("binlog-database");
    if (!id.empty() && std::find(databases.begin(), databases.end(), id) == databases.end()) databases.push_back(id);
  }
  std::vector<std::string> warnings;
  for (const std::string& id : databases) {
    BinlogArchive archive(snapshots, id);
    for (const BinlogGap& gap : archive.gaps()) warnings.push_back(binlog_gap_warning(archive.pieces().front().database_name, gap));
  }
  return warnings;
}

std::string binlog_gap_warning(const std::string& database_name, const BinlogGap& gap) {
  return "binlog archive of " + database_name + " has a gap" + (gap.after.empty() ? "" : " after " + gap.after) +
         " (it goes on at " + gap.before + ", " + format_rfc3339(gap.found_ns) + "): " + gap.reason;
}

int64_t newest_recovery_point(const repo::Snapshot& backup, const std::vector<repo::Snapshot>& snapshots,
                              const std::string& database_id) {
  if (!backup.summary.contains("binlog")) return backup.time_ns;
  const nlohmann::json& position = backup.summary["binlog"];
  if (!position.is_object() || !position.contains("file") || !position["position"].is_number_integer() || position["position"].get<int64_t>() < 0) return backup.time_ns;
  BinlogArchive archive(snapshots, database_id);
  auto reachable = archive.reachable_from(position["file"].get<std::string>(), position["position"].get<uint64_t>());
  return reachable ? std::max(backup.time_ns, *reachable) : backup.time_ns;
}

}  // namespace obkeep::ops
