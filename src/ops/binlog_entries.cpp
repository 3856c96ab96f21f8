#include "ops/binlog_entries.hpp"

#include <algorithm>
#include <set>

#include "db/repository_dump_store.hpp"
#include "repo/archive_file.hpp"
#include "repo/tree.hpp"
#include "util/error.hpp"
#include "util/gallop.hpp"
#include "util/host.hpp"
#include "util/interrupt.hpp"

namespace obkeep::ops {

namespace {

constexpr const char* binlog_piece_kind = "binlog";
constexpr const char* binlog_epoch_kind = "binlog-epoch";

// "<epoch>/<file>/<index>" → its parts; nullopt when the name is not one.
struct BinlogPieceName {
  uint64_t epoch = 0;
  std::string file;
  uint64_t index = 0;
};

std::optional<uint64_t> parse_decimal_name(const std::string& text) {
  if (text.empty() || text.size() > 19 || !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  return std::stoull(text);
}

std::optional<BinlogPieceName> parse_binlog_piece_name(const std::string& name) {
  size_t first = name.find('/'), last = name.rfind('/');
  if (first == std::string::npos || first == last) return std::nullopt;
  auto epoch = parse_decimal_name(name.substr(0, first));
  auto index = parse_decimal_name(name.substr(last + 1));
  if (!epoch || !index) return std::nullopt;
  return BinlogPieceName{*epoch, name.substr(first + 1, last - first - 1), *index};
}

std::string binlog_point(const std::string& file, uint64_t position) { return file + ":" + std::to_string(position); }

}  // namespace

repo::ArchiveKey binlog_piece_key(const std::string& database_id, uint64_t epoch, const std::string& file, uint64_t index) {
  return {binlog_piece_kind, database_id, std::to_string(epoch) + "/" + file + "/" + std::to_string(index)};
}

repo::ArchiveKey binlog_epoch_key(const std::string& database_id, uint64_t epoch) {
  return {binlog_epoch_kind, database_id, std::to_string(epoch)};
}

BinlogPiece binlog_piece_of(const repo::ArchiveEntry& entry) {
  std::string what = "binlog piece " + entry.key.file + " of " + entry.key.stanza;
  std::optional<BinlogPieceName> name = parse_binlog_piece_name(entry.key.file);
  if (entry.key.kind != binlog_piece_kind || !name) throw IntegrityError(what + " has a malformed name");
  BinlogPiece piece = binlog_piece_from_summary(entry.meta, what);
  if (piece.file != name->file || piece.end - piece.start != entry.size)
    throw IntegrityError(what + " does not hold what its name says");
  piece.epoch = name->epoch;
  piece.index = name->index;
  piece.saved_ns = entry.time_ns;
  if (piece.database_name.empty()) piece.database_name = entry.key.stanza;
  piece.stored = entry.without_meta();
  return piece;
}

BinlogEpoch binlog_epoch_of(const repo::ArchiveEntry& entry) {
  std::string what = "binlog epoch " + entry.key.file + " of " + entry.key.stanza;
  std::optional<uint64_t> number = parse_decimal_name(entry.key.file);
  if (entry.key.kind != binlog_epoch_kind || !number || !entry.meta.is_object() || !entry.meta.contains("binlog_epoch"))
    throw IntegrityError(what + " is malformed");
  BinlogEpoch epoch;
  try {
    const nlohmann::json& meta = entry.meta["binlog_epoch"];
    epoch.first_file = meta.at("first_file").get<std::string>();
    epoch.first_start = meta.value("first_start", uint64_t{0});
    epoch.gap = meta.value("gap", "");
    epoch.after = meta.value("after", "");
    epoch.database_name = meta.value("database_name", entry.key.stanza);
    epoch.forgotten = meta.value("forgotten", false);
  } catch (const nlohmann::json::exception& e) {
    throw IntegrityError(what + ": " + e.what());
  }
  if (!repo::is_safe_name(epoch.first_file)) throw IntegrityError(what + " names no binlog file");
  epoch.number = *number;
  epoch.started_ns = entry.time_ns;
  return epoch;
}

std::vector<BinlogEpoch> BinlogEntries::epochs() {
  auto exists = [&](uint64_t number) { return repo::archive_entry_exists(repository_, binlog_epoch_key(database_id_, number)); };
  if (!exists(0)) return {};
  uint64_t last = last_present(0, exists);
  std::vector<Id> names;
  for (uint64_t number = 0; number <= last; ++number)
    names.push_back(repo::archive_entry_name(repository_, binlog_epoch_key(database_id_, number)));
  std::vector<BinlogEpoch> epochs;
  for (const repo::ArchiveEntry& entry : repo::load_archive_entries(repository_, names)) {
    epochs.push_back(binlog_epoch_of(entry));
    if (entry.key.stanza != database_id_ || epochs.back().number != epochs.size() - 1)
      throw IntegrityError("binlog epoch " + entry.key.file + " of " + database_id_ + " is stored under another name");
  }
  return epochs;
}

uint64_t BinlogEntries::piece_count(uint64_t epoch, const std::string& file) {
  auto exists = [&](uint64_t index) {
    return repo::archive_entry_exists(repository_, binlog_piece_key(database_id_, epoch, file, index));
  };
  return exists(0) ? last_present(0, exists) + 1 : 0;
}

std::optional<BinlogPiece> BinlogEntries::piece(uint64_t epoch, const std::string& file, uint64_t index) {
  std::optional<repo::ArchiveEntry> entry = repo::load_archive_entry(repository_, binlog_piece_key(database_id_, epoch, file, index));
  if (!entry) return std::nullopt;
  return binlog_piece_of(*entry);
}

std::optional<BinlogPiece> BinlogEntries::last_piece(uint64_t epoch, const std::string& file) {
  uint64_t count = piece_count(epoch, file);
  return count ? piece(epoch, file, count - 1) : std::nullopt;
}

std::vector<BinlogPiece> BinlogEntries::chain(uint64_t epoch, const std::string& file,
                                              const std::function<bool(const BinlogPiece&)>& enough) {
  std::vector<BinlogPiece> pieces;
  std::set<std::string> files;  // a rotation back to a file already read would loop
  for (std::string current = file; files.insert(current).second;) {
    throw_if_interrupted();
    // A file's pieces are loaded together (several at once from a remote store).
    uint64_t count = piece_count(epoch, current);
    std::vector<Id> names;
    for (uint64_t index = 0; index < count; ++index)
      names.push_back(repo::archive_entry_name(repository_, binlog_piece_key(database_id_, epoch, current, index)));
    for (const repo::ArchiveEntry& entry : repo::load_archive_entries(repository_, names)) {
      pieces.push_back(binlog_piece_of(entry));
      if (enough(pieces.back())) return pieces;
    }
    if (pieces.empty() || pieces.back().file != current || pieces.back().next_file.empty()) break;
    current = pieces.back().next_file;
  }
  return pieces;
}

BinlogPiece BinlogEntries::last_of_chain(BinlogPiece from) {
  for (std::set<std::string> files{from.file}; !from.next_file.empty() && files.insert(from.next_file).second;) {
    std::optional<BinlogPiece> next = last_piece(from.epoch, from.next_file);
    if (!next) break;
    from = std::move(*next);
  }
  return from;
}

std::optional<int64_t> BinlogEntries::reachable_from(uint64_t epoch, const std::string& file, uint64_t position) {
  std::optional<BinlogPiece> last = last_piece(epoch, file);
  if (!last || last->end < position) return std::nullopt;
  return last_of_chain(std::move(*last)).recovery_point_ns;
}

std::optional<uint64_t> BinlogEntries::epoch_holding(const std::vector<BinlogEpoch>& epochs, const std::string& file,
                                                     int64_t backup_ns) {
  std::optional<uint64_t> newest;
  for (auto epoch = epochs.rbegin(); epoch != epochs.rend(); ++epoch) {
    if (!repo::archive_entry_exists(repository_, binlog_piece_key(database_id_, epoch->number, file, 0))) continue;
    if (epoch->started_ns <= backup_ns) return epoch->number;
    if (!newest) newest = epoch->number;
  }
  return newest;
}

void BinlogEntries::start_epoch(const BinlogEpoch& epoch) {
  repo::ArchiveEntry entry;
  entry.key = binlog_epoch_key(database_id_, epoch.number);
  entry.time_ns = epoch.started_ns ? epoch.started_ns : now_unix_nanos();
  nlohmann::json meta = {{"first_file", epoch.first_file}, {"first_start", epoch.first_start},
                         {"database_name", epoch.database_name}};
  if (!epoch.gap.empty()) meta["gap"] = epoch.gap;
  if (!epoch.after.empty()) meta["after"] = epoch.after;
  if (epoch.forgotten) meta["forgotten"] = true;
  entry.meta = {{"binlog_epoch", meta}};
  repo::save_archive_entry(repository_, entry);
}

void BinlogEntries::save_piece(const BinlogPiece& piece, ByteView data) {
  repo::ArchiveWriter writer(repository_);
  writer.add(binlog_piece_key(database_id_, piece.epoch, piece.file, piece.index), data, binlog_piece_summary(piece));
  writer.commit();
}

void BinlogEntries::mark_forgotten(BinlogEpoch epoch) {
  epoch.forgotten = true;
  start_epoch(epoch);
}

void mark_emptied_epochs_forgotten(repo::Repository& repository, const std::vector<repo::ArchiveEntry>& entries,
                                   const std::set<Id>& removed) {
  std::map<std::string, std::set<uint64_t>> epochs_with_pieces;
  std::map<std::string, std::vector<BinlogEpoch>> epochs;
  for (const repo::ArchiveEntry& entry : entries) {
    if (entry.key.kind == binlog_piece_kind && !removed.count(entry.name))
      if (std::optional<BinlogPieceName> name = parse_binlog_piece_name(entry.key.file))
        epochs_with_pieces[entry.key.stanza].insert(name->epoch);
    if (entry.key.kind == binlog_epoch_kind) epochs[entry.key.stanza].push_back(binlog_epoch_of(entry));
  }
  for (auto& [database, list] : epochs) {
    uint64_t newest = 0;
    for (const BinlogEpoch& epoch : list) newest = std::max(newest, epoch.number);
    for (const BinlogEpoch& epoch : list) {
      // The newest goes on receiving pieces; the others are done.
      if (epoch.forgotten || epoch.number == newest || epochs_with_pieces[database].count(epoch.number)) continue;
      BinlogEntries(repository, database).mark_forgotten(epoch);
    }
  }
}

Bytes read_binlog_piece(repo::Repository& repository, const BinlogPiece& piece) {
  if (piece.stored) return repo::read_archived_file(repository, *piece.stored);
  repo::Snapshot snapshot = repo::load_snapshot(repository, piece.snapshot);
  db::RepositoryDumpSource stream(repository, snapshot.tree);
  std::string data = db::read_stream(stream, piece.file);
  return Bytes(data.begin(), data.end());
}

std::map<std::string, BinlogArchive> binlog_archives(const std::vector<repo::ArchiveEntry>& entries) {
  std::map<std::string, std::vector<BinlogPiece>> pieces;
  for (const repo::ArchiveEntry& entry : entries)
    if (entry.key.kind == binlog_piece_kind) pieces[entry.key.stanza].push_back(binlog_piece_of(entry));
  std::map<std::string, BinlogArchive> archives;
  for (auto& [database, list] : pieces) {
    // A file's place: when its first piece still archived was saved.
    std::map<std::pair<uint64_t, std::string>, int64_t> begun;
    for (const BinlogPiece& piece : list) {
      auto [slot, fresh] = begun.try_emplace({piece.epoch, piece.file}, piece.saved_ns);
      if (!fresh) slot->second = std::min(slot->second, piece.saved_ns);
    }
    std::sort(list.begin(), list.end(), [&](const BinlogPiece& a, const BinlogPiece& b) {
      int64_t a_begun = begun.at({a.epoch, a.file}), b_begun = begun.at({b.epoch, b.file});
      return std::tie(a.epoch, a_begun, a.file, a.index) < std::tie(b.epoch, b_begun, b.file, b.index);
    });
    archives.emplace(database, BinlogArchive(std::move(list)));
  }
  return archives;
}

namespace {

// Per database id, the newest backup with a binlog position.
std::map<std::string, const repo::Snapshot*> newest_rollable_backups(const std::vector<repo::Snapshot>& snapshots) {
  std::map<std::string, const repo::Snapshot*> newest;
  for (const repo::Snapshot& snapshot : snapshots) {
    if (!is_rollable_backup(snapshot)) continue;
    const repo::Snapshot*& slot = newest[snapshot.tag_value("database")];
    if (!slot || slot->time_ns < snapshot.time_ns) slot = &snapshot;
  }
  return newest;
}

}  // namespace

BinlogArchiveReach binlog_archive_reach(repo::Repository& repository, const std::vector<repo::Snapshot>& snapshots) {
  BinlogArchiveReach reach;
  for (const auto& [database, backup] : newest_rollable_backups(snapshots)) {
    BinlogEntries archive(repository, database);
    std::vector<BinlogEpoch> epochs;
    try {
      epochs = archive.epochs();
    } catch (const Error& e) {
      if (e.code() == ExitCode::interrupted) throw;
      reach.gaps.push_back("binlog archive of " + database + " cannot be read: " + e.what());
      continue;
    }
    for (size_t i = 1; i < epochs.size(); ++i) {
      if (epochs[i - 1].forgotten) continue;  // nothing before the gap is kept: no replay meets it
      const BinlogEpoch& epoch = epochs[i];
      reach.gaps.push_back(binlog_gap_warning(epoch.database_name, {epoch.after, binlog_point(epoch.first_file, epoch.first_start),
                                                                    epoch.gap, epoch.started_ns}));
    }
    if (epochs.empty()) continue;
    try {
      const nlohmann::json& position = backup->summary["binlog"];
      std::string file = position["file"].get<std::string>();
      std::optional<uint64_t> epoch = archive.epoch_holding(epochs, file, backup->time_ns);
      if (!epoch) continue;
      std::optional<int64_t> point = archive.reachable_from(*epoch, file, position["position"].get<uint64_t>());
      if (point && *point > backup->time_ns) reach.points[database] = *point;
    } catch (const Error& e) {
      if (e.code() == ExitCode::interrupted) throw;  // an unreadable piece: no point beyond the backup
    }
  }
  return reach;
}

}  // namespace obkeep::ops
