// Prune, in the order that keeps every step crash-safe:
//   1. mark every blob reachable from a snapshot (abort if any tree is unreadable);
//   2. copy live blobs out of packs to repack into new packs, and flush them;
//   3. write one index file for every kept and new pack;
//   4. delete the old index files;
//   5. delete the packs no index names any more.
// A crash before 3 leaves only extra packs; after 3, old and new indexes agree on every
// pack that still exists; during 5, the leftover packs are unreferenced and the next
// prune deletes them.
#include "repo/prune.hpp"

#include <map>
#include <unordered_set>

#include "repo/snapshot.hpp"
#include "repo/tree_walk.hpp"
#include "util/error.hpp"
#include "util/interrupt.hpp"

namespace obkeep::repo {

using storage::FileType;

PruneResult prune(Repository& repository, const PruneOptions& options) {
  PruneResult result;
  std::unordered_set<Id, IdHash> used;
  std::unordered_set<Id, IdHash> seen_trees;
  for (const Snapshot& snapshot : list_snapshots(repository)) {
    walk_trees(
        repository, snapshot.tree, seen_trees, [&](const Id& tree) { used.insert(tree); },
        [&](const std::string&, const Node& node) {
          for (const Id& blob : node.content) used.insert(blob);
        },
        [&](const Id& tree, const std::string& path, const std::string& message) {
          throw Error("prune stopped, nothing deleted: snapshot " + snapshot.id.short_hex() + " has an unreadable tree " +
                      tree.short_hex() + " at " + path + " (" + message + "); run `obkeep check`");
        });
  }
  std::map<std::string, uint64_t> stored;
  repository.backend().list(FileType::pack, [&](const std::string& name, uint64_t size) { stored[name] = size; });
  for (const auto& [name, size] : stored) result.bytes_before += size;

  std::vector<IndexFile::Pack> keep, repack;
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
    if (used_blobs == 0) {
      result.packs_deleted++;
      result.bytes_freed += it->second;
    } else if (used_blobs < pack.blobs.size() && unused_bytes > options.repack_threshold * it->second) {
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
  std::vector<Id> old_indexes = repository.loaded_index_files();
  for (const Id& id : repository.written_index_files()) old_indexes.push_back(id);
  fresh.supersedes = old_indexes;
  repository.write_index_file(fresh);
  // 4. Old index files.
  for (const Id& id : old_indexes) repository.backend().remove({FileType::index, id.hex()});
  result.index_files_replaced = old_indexes.size();
  // 5. Packs nothing names now.
  for (const auto& pack : repack) repository.backend().remove({FileType::pack, pack.id.hex()});
  for (const std::string& name : unreferenced) repository.backend().remove({FileType::pack, name});
  for (const auto& pack : repository.index().packs()) {
    auto it = stored.find(pack.id.hex());
    bool used_pack = false;
    for (const PackedBlob& blob : pack.blobs) used_pack = used_pack || used.count(blob.id);
    if (it != stored.end() && !used_pack && indexed.count(pack.id.hex()))
      repository.backend().remove({FileType::pack, pack.id.hex()});
  }
  return result;
}

}  // namespace obkeep::repo
