// Prune, in the order that keeps every step crash-safe:
//   1. mark every blob reachable from a snapshot or named by an archive entry (abort if any
//      tree or entry is unreadable);
//   2. copy live blobs out of packs to repack into new packs, and flush them;
//   3. write one index file for every kept and new pack;
//   4. delete the old index files;
//   5. delete the packs no index names any more.
// A crash before 3 leaves only extra packs; after 3, old and new indexes agree on every
// pack that still exists; during 5, the leftover packs are unreferenced and the next
// prune deletes them.
//
// Objects the store will not delete yet (S3 Object Lock retention) stay, and so does what
// they need: an index file under retention keeps every pack it names (the index loader
// merges all index files, so a pack it names must exist); a pack under retention is neither
// deleted nor repacked, and stays named by the new index (so check stays clean) until its
// own retention ends. A pack that stays only because a retained index file names it is
// left out of the new index, so retention does not carry itself from index to index.
#include "repo/prune.hpp"

#include <algorithm>
#include <map>
#include <unordered_set>

#include "repo/archive_catalog.hpp"
#include "repo/archive_entry.hpp"
#include "repo/snapshot.hpp"
#include "repo/tree_walk.hpp"
#include "util/error.hpp"
#include "util/interrupt.hpp"

namespace obkeep::repo {

using storage::FileType;

namespace {

// What the store will not delete yet, and since when it is known.
class Retention {
 public:
  Retention(Repository& repository, PruneResult& result) : repository_(repository), result_(result) {}

  // Whether the old index file stays; if so, the packs it names stay with it.
  bool hold_index(const Id& id) {
    std::optional<int64_t> until = repository_.backend().retained_until({FileType::index, id.hex()});
    if (!until) return false;
    note(*until);
    result_.index_files_retained++;
    for (const IndexFile::Pack& pack : decode_index_file(repository_.load_object(FileType::index, id.hex())).packs)
      named_by_held_index_.insert(pack.id.hex());
    return true;
  }
  // Whether the pack is under retention itself.
  bool pack_retained(const std::string& name) {
    std::optional<int64_t> until = repository_.backend().retained_until({FileType::pack, name});
    if (until) note(*until);
    return until.has_value();
  }
  bool named_by_held_index(const std::string& name) const { return named_by_held_index_.count(name) > 0; }

 private:
  void note(int64_t until) { result_.retained_until = std::max(result_.retained_until, until); }

  Repository& repository_;
  PruneResult& result_;
  std::unordered_set<std::string> named_by_held_index_;
};

}  // namespace

PruneResult prune(Repository& repository, const PruneOptions& options) {
  PruneResult result;
  // Archived files (WAL) are roots too: forget never removes them, so neither does prune.
  // Read first: a catalog brought up to date here is written before the packs are listed.
  ArchiveRead read;
  try {
    read = read_archive(repository, list_archive_entries(repository));
  } catch (const Error& e) {
    if (e.code() == ExitCode::interrupted) throw;
    throw Error("prune stopped, nothing deleted: " + std::string(e.what()) + "; run `obkeep check`");
  }
  std::optional<ArchiveEntry> catalog = options.dry_run ? std::nullopt : update_archive_catalog(repository, read);
  std::vector<ArchiveEntry> archived = std::move(read.entries);
  if (catalog) {  // the new catalog's blobs in use, the replaced one's no longer
    std::erase_if(archived, [&](const ArchiveEntry& entry) { return entry.name == catalog->name; });
    archived.push_back(std::move(*catalog));
  }
  std::unordered_set<Id, IdHash> used;
  std::unordered_set<Id, IdHash> seen_trees;
  TreeWalker walker(repository);
  for (const Snapshot& snapshot : list_snapshots(repository)) {
    walker.walk(
        snapshot.tree, seen_trees, [&](const Id& tree) { used.insert(tree); },
        [&](const std::string&, const Node& node) {
          for (const Id& blob : node.content) used.insert(blob);
        },
        [&](const Id& tree, const std::string& path, const std::string& message) {
          throw Error("prune stopped, nothing deleted: snapshot " + snapshot.id.short_hex() + " has an unreadable tree " +
                      tree.short_hex() + " at " + path + " (" + message + "); run `obkeep check`");
        });
  }
  for (const ArchiveEntry& entry : archived)
    for (const ArchivedBlob& blob : entry.blobs) used.insert(blob.id);
  std::map<std::string, uint64_t> stored;
  repository.backend().list(FileType::pack, [&](const std::string& name, uint64_t size) { stored[name] = size; });
  for (const auto& [name, size] : stored) result.bytes_before += size;

  // Old index files under retention first: the packs they name cannot go.
  Retention retention(repository, result);
  std::vector<Id> old_indexes = repository.loaded_index_files();
  for (const Id& id : repository.written_index_files()) old_indexes.push_back(id);
  // A file this process wrote and then loaded is listed twice.
  std::sort(old_indexes.begin(), old_indexes.end());
  old_indexes.erase(std::unique(old_indexes.begin(), old_indexes.end()), old_indexes.end());
  std::vector<Id> removable_indexes;
  for (const Id& id : old_indexes)
    if (!retention.hold_index(id)) removable_indexes.push_back(id);

  std::vector<IndexFile::Pack> keep, repack;
  std::vector<std::string> unused;  // indexed packs no snapshot uses
  std::unordered_set<std::string> indexed;
  for (IndexFile::Pack& pack : repository.index().packs()) {
    auto it = stored.find(pack.id.hex());
    if (it == stored.end()) continue;  // missing: check reports it; nothing to delete
    indexed.insert(pack.id.hex());
    uint64_t used_bytes = 0, used_blobs = 0;
    for (const PackedBlob& blob : pack.blobs)
      if (used.count(blob.id)) {
        used_bytes += blob.stored_length;
        used_blobs++;
      }
    result.blobs_used += used_blobs;
    result.blobs_unused += pack.blobs.size() - used_blobs;
    uint64_t unused_bytes = it->second > used_bytes ? it->second - used_bytes : 0;
    bool to_repack = used_blobs > 0 && used_blobs < pack.blobs.size() &&
                     unused_bytes > options.repack_threshold * it->second;
    if (used_blobs == 0 || to_repack) {
      bool named = retention.named_by_held_index(pack.id.hex());
      bool own = !named && retention.pack_retained(pack.id.hex());
      if (named || own) {
        result.packs_retained++;
        // In the new index while it has live blobs or its own retention; see the top of the file.
        if (used_blobs > 0 || own) keep.push_back(std::move(pack));
        continue;
      }
    }
    if (used_blobs == 0) {
      result.packs_deleted++;
      result.bytes_freed += it->second;
      unused.push_back(pack.id.hex());
    } else if (to_repack) {
      result.packs_repacked++;
      repack.push_back(std::move(pack));
    } else {
      result.packs_kept++;
      keep.push_back(std::move(pack));
    }
  }
  std::vector<std::string> unreferenced;
  for (const auto& [name, size] : stored)
    if (!indexed.count(name)) {
      if (retention.named_by_held_index(name) || retention.pack_retained(name)) {
        result.packs_retained++;
        continue;
      }
      unreferenced.push_back(name);
      result.packs_deleted++;
      result.bytes_freed += size;
    }
  if (options.dry_run) return result;
  repository.backend().remove_temporaries();

  // 2. Repack.
  repository.keep_written_packs();
  uint64_t repacked_bytes = 0;
  for (const auto& pack : repack) {
    throw_if_interrupted();
    for (const PackedBlob& blob : pack.blobs) {
      if (!used.count(blob.id)) continue;
      BlobLocation location{pack.id, blob.offset, blob.stored_length, blob.raw_length, blob.type};
      repository.repack_blob(blob.type, blob.id, repository.load_blob(blob.id, location));
    }
    repacked_bytes += stored[pack.id.hex()];
  }
  repository.flush();
  std::vector<IndexFile::Pack> written = repository.take_written_packs();
  uint64_t written_bytes = 0;
  for (const auto& pack : written) {
    if (auto size = repository.backend().stat({FileType::pack, pack.id.hex()})) written_bytes += *size;
  }
  result.bytes_freed += repacked_bytes > written_bytes ? repacked_bytes - written_bytes : 0;

  // 3. One index for everything that stays, keeping only the live blobs of kept packs.
  IndexFile fresh;
  for (auto& pack : keep) fresh.packs.push_back(std::move(pack));
  for (auto& pack : written) fresh.packs.push_back(std::move(pack));
  fresh.supersedes = old_indexes;
  repository.write_index_file(fresh);
  // 4. Old index files (those under retention stay, and agree with the new one).
  for (const Id& id : removable_indexes) repository.backend().remove({FileType::index, id.hex()});
  result.index_files_replaced = removable_indexes.size();
  // 5. Packs nothing names now.
  for (const auto& pack : repack) repository.backend().remove({FileType::pack, pack.id.hex()});
  for (const std::string& name : unreferenced) repository.backend().remove({FileType::pack, name});
  for (const std::string& name : unused) repository.backend().remove({FileType::pack, name});
  return result;
}

}  // namespace obkeep::repo
