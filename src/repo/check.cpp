// check: index files decode, indexed packs exist with the right size, every snapshot's
// trees load and every blob they name is indexed, every archive entry decodes and its blobs
// are indexed; with read_data, every selected pack
// hashes to its name and each blob in it authenticates and matches its id.
#include "repo/check.hpp"

#include <algorithm>
#include <map>
#include <random>
#include <unordered_set>

#include "crypto/hash.hpp"
#include "repo/archive_entry.hpp"
#include "repo/snapshot.hpp"
#include "repo/tree_walk.hpp"
#include "util/error.hpp"
#include "util/interrupt.hpp"
#include "util/parallel_tasks.hpp"

namespace obkeep::repo {

using storage::FileType;

namespace {

// Ids are uniformly distributed: their first four bytes split the packs into even parts.
bool in_part(const Id& id, const CheckOptions& options) {
  if (options.read_parts == 0) return true;
  uint32_t prefix = (uint32_t(id.bytes[0]) << 24) | (uint32_t(id.bytes[1]) << 16) | (uint32_t(id.bytes[2]) << 8) | id.bytes[3];
  return prefix % options.read_parts == options.read_part - 1;
}

void read_pack(Repository& repository, const IndexFile::Pack& pack, uint64_t size, CheckResult& result,
               std::unordered_set<Id, IdHash>& damaged) {
  Bytes data;
  try {
    data = repository.backend().load({FileType::pack, pack.id.hex()}, 0, size);
  } catch (const Error& e) {
    result.errors.push_back("pack " + pack.id.hex() + " cannot be read: " + e.what());
    for (const auto& blob : pack.blobs) damaged.insert(blob.id);
    return;
  }
  result.packs_read++;
  if (crypto::sha256(data) != pack.id)
    result.errors.push_back("pack " + pack.id.hex() + " is damaged: its content does not match its name");
  try {
    auto header = parse_pack_header(repository.key().encryption, data, data.size());
    if (header.size() < pack.blobs.size())
      result.errors.push_back("pack " + pack.id.hex() + " header lists fewer blobs than the index");
  } catch (const IntegrityError& e) {
    result.errors.push_back("pack " + pack.id.hex() + " has a damaged header: " + e.what());
  }
  for (const PackedBlob& blob : pack.blobs) {
    result.blobs_read++;
    if (uint64_t(blob.offset) + blob.stored_length > data.size()) {
      result.errors.push_back("blob " + blob.id.hex() + " lies beyond the end of pack " + pack.id.hex());
      damaged.insert(blob.id);
      continue;
    }
    try {
      // The id is hashed again even where the seal binds it: a writer's fault between
      // hashing and sealing shows only here.
      Bytes plain = decode_blob(repository.blob_sealing(), blob.type, blob.id,
                                ByteView(data.data() + blob.offset, blob.stored_length), blob.raw_length);
      if (repository.blob_id(plain) != blob.id) throw IntegrityError("content does not match its id");
    } catch (const IntegrityError& e) {
      result.errors.push_back("blob " + blob.id.hex() + " in pack " + pack.id.hex() + " is damaged: " + e.what());
      damaged.insert(blob.id);
    }
  }
}

}  // namespace

CheckResult check_repository(Repository& repository, const CheckOptions& options) {
  CheckResult result;
  // 1. Index files.
  std::vector<std::string> index_names;
  repository.backend().list(FileType::index, [&](const std::string& name, uint64_t) { index_names.push_back(name); });
  for (const std::string& name : index_names) {
    try {
      repository.index().add_file(decode_index_file(repository.load_object(FileType::index, name)));
    } catch (const Error& e) {
      result.errors.push_back("index file " + name + ": " + e.what());
    }
  }
  // 2. Packs named by the index exist with a plausible size.
  std::map<std::string, uint64_t> stored_packs;
  repository.backend().list(FileType::pack, [&](const std::string& name, uint64_t size) { stored_packs[name] = size; });
  std::vector<IndexFile::Pack> packs = repository.index().packs();
  std::unordered_set<Id, IdHash> damaged;
  for (const auto& pack : packs) {
    result.packs++;
    auto it = stored_packs.find(pack.id.hex());
    if (it == stored_packs.end()) {
      if (!pack.blobs.empty()) result.errors.push_back("pack " + pack.id.hex() + " is in the index but missing");
      for (const auto& blob : pack.blobs) damaged.insert(blob.id);
      continue;
    }
    for (const auto& blob : pack.blobs)
      if (uint64_t(blob.offset) + blob.stored_length > it->second)
        result.errors.push_back("pack " + pack.id.hex() + " is shorter than its index entries say");
  }
  std::unordered_set<std::string> indexed;
  for (const auto& pack : packs) indexed.insert(pack.id.hex());
  for (const auto& [name, size] : stored_packs)
    if (!indexed.count(name))
      result.warnings.push_back("pack " + name + " is not in the index (left by an interrupted run; prune removes it)");

  // 3. Read data.
  if (options.read_fraction > 0 || options.read_parts > 0) {
    std::vector<const IndexFile::Pack*> selected;
    for (const auto& pack : packs)
      if (stored_packs.count(pack.id.hex()) && in_part(pack.id, options)) selected.push_back(&pack);
    if (options.read_parts == 0 && options.read_fraction < 1) {
      std::mt19937_64 random(std::random_device{}());
      std::shuffle(selected.begin(), selected.end(), random);
      size_t count = static_cast<size_t>(selected.size() * options.read_fraction + 0.999999);
      selected.resize(std::min(count, selected.size()));
    }
    for (const auto* pack : selected) {
      throw_if_interrupted();
      read_pack(repository, *pack, stored_packs[pack->id.hex()], result, damaged);
    }
  }

  // 4. Snapshots and their trees; files that use missing or damaged blobs are named.
  std::vector<std::string> names;
  repository.backend().list(FileType::snapshot, [&](const std::string& name, uint64_t) { names.push_back(name); });
  std::unordered_set<Id, IdHash> seen_trees;
  for (const std::string& name : names) {
    Snapshot snapshot;
    try {
      snapshot = load_snapshot(repository, Id::from_hex(name));
    } catch (const Error& e) {
      result.errors.push_back("snapshot " + name + ": " + e.what());
      continue;
    }
    result.snapshots++;
    // Trees are shared between snapshots: walk each once for structure, but every
    // snapshot's own walk when naming affected files.
    std::unordered_set<Id, IdHash> seen_here;
    std::unordered_set<Id, IdHash>& seen = damaged.empty() ? seen_trees : seen_here;
    walk_trees(
        repository, snapshot.tree, seen,
        [&](const Id& tree) {
          if (!repository.index().has(tree) || damaged.count(tree))
            result.errors.push_back("snapshot " + snapshot.id.short_hex() + ": tree " + tree.hex() +
                                    " is missing or damaged");
          result.trees++;
        },
        [&](const std::string& path, const Node& node) {
          for (const Id& blob : node.content) {
            if (!repository.index().has(blob) || damaged.count(blob)) {
              result.affected.push_back("snapshot " + snapshot.id.short_hex() + ": " + path);
              if (!repository.index().has(blob))
                result.errors.push_back("snapshot " + snapshot.id.short_hex() + ": " + path + ": blob " + blob.hex() +
                                        " is missing");
              break;
            }
          }
        },
        [&](const Id& tree, const std::string& path, const std::string& message) {
          result.errors.push_back("snapshot " + snapshot.id.short_hex() + ": tree " + tree.short_hex() + " at " + path +
                                  ": " + message);
        });
  }
  // 5. Archive entries (WAL files): each read on its own, so that every damaged one is named.
  std::vector<Id> archive_names = list_archive_entries(repository);
  std::vector<std::optional<ArchiveEntry>> entries(archive_names.size());
  std::vector<std::string> failures(archive_names.size());
  unsigned threads = static_cast<unsigned>(std::max<size_t>(4, 2 * repository.backend().background_saves()));
  run_parallel(archive_names.size(), threads, [&](size_t i) {
    try {
      entries[i] = load_archive_entries(repository, {archive_names[i]}).front();
    } catch (const Error& e) {
      if (e.code() == ExitCode::interrupted) throw;
      failures[i] = e.what();
    }
  });
  for (size_t i = 0; i < entries.size(); ++i) {
    if (!entries[i]) {
      result.errors.push_back(failures[i]);
      continue;
    }
    const ArchiveEntry& entry = result.archive.emplace_back(std::move(*entries[i]));
    result.archive_entries++;
    for (const ArchivedBlob& blob : entry.blobs) {
      if (!repository.index().has(blob.id) || damaged.count(blob.id)) {
        result.affected.push_back("archive: " + entry.key.describe());
        if (!repository.index().has(blob.id))
          result.errors.push_back("archive entry " + entry.name.short_hex() + " (" + entry.key.describe() + "): blob " +
                                  blob.id.hex() + " is missing");
        break;
      }
    }
  }
  std::sort(result.affected.begin(), result.affected.end());
  result.affected.erase(std::unique(result.affected.begin(), result.affected.end()), result.affected.end());
  return result;
}

}  // namespace obkeep::repo
