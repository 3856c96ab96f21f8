// check: index files decode, indexed packs exist with the right size, every snapshot's
// trees load and every blob they name is indexed, every archive entry decodes and its blobs
// are indexed; with read_data, every selected pack
// hashes to its name and each blob in it authenticates and matches its id.
#include "repo/check.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <random>
#include <unordered_map>
#include <unordered_set>

#include "crypto/hash.hpp"
#include "repo/archive_catalog.hpp"
#include "repo/archive_entry.hpp"
#include "repo/archive_file.hpp"
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

// What reading one pack found; packs are read side by side and their findings merged in
// the packs' order, so that the report reads the same however the reads interleaved.
struct PackFindings {
  bool read = false;
  uint64_t blobs_read = 0;
  std::vector<std::string> errors;
  std::vector<Id> damaged;
};

PackFindings read_pack(Repository& repository, const IndexFile::Pack& pack, uint64_t size) {
  PackFindings found;
  Bytes data;
  try {
    data = repository.backend().load({FileType::pack, pack.id.hex()}, 0, size);
  } catch (const Error& e) {
    if (e.code() == ExitCode::interrupted) throw;
    found.errors.push_back("pack " + pack.id.hex() + " cannot be read: " + e.what());
    for (const auto& blob : pack.blobs) found.damaged.push_back(blob.id);
    return found;
  }
  found.read = true;
  if (crypto::sha256(data) != pack.id)
    found.errors.push_back("pack " + pack.id.hex() + " is damaged: its content does not match its name");
  try {
    auto header = parse_pack_header(repository.key().encryption, data, data.size());
    if (header.size() < pack.blobs.size())
      found.errors.push_back("pack " + pack.id.hex() + " header lists fewer blobs than the index");
  } catch (const IntegrityError& e) {
    found.errors.push_back("pack " + pack.id.hex() + " has a damaged header: " + e.what());
  }
  for (const PackedBlob& blob : pack.blobs) {
    found.blobs_read++;
    if (uint64_t(blob.offset) + blob.stored_length > data.size()) {
      found.errors.push_back("blob " + blob.id.hex() + " lies beyond the end of pack " + pack.id.hex());
      found.damaged.push_back(blob.id);
      continue;
    }
    try {
      // The id is hashed again even where the seal binds it: a writer's fault between
      // hashing and sealing shows only here.
      Bytes plain = decode_blob(repository.blob_sealing(), blob.type, blob.id,
                                ByteView(data.data() + blob.offset, blob.stored_length), blob.raw_length);
      if (repository.blob_id(plain) != blob.id) throw IntegrityError("content does not match its id");
    } catch (const IntegrityError& e) {
      found.errors.push_back("blob " + blob.id.hex() + " in pack " + pack.id.hex() + " is damaged: " + e.what());
      found.damaged.push_back(blob.id);
    }
  }
  return found;
}

// Objects loaded side by side, each on its own, so that every one that fails is named.
template <class Load>
auto load_each(size_t count, unsigned threads, Load&& load, std::vector<std::string>& failures) {
  std::vector<std::optional<decltype(load(size_t{0}))>> loaded(count);
  failures.assign(count, {});
  run_parallel(count, threads, [&](size_t i) {
    try {
      loaded[i] = load(i);
    } catch (const Error& e) {
      if (e.code() == ExitCode::interrupted) throw;
      failures[i] = e.what();
    }
  });
  return loaded;
}

// The archive catalog as check reads it: its entries, or why it could not be read.
struct CatalogForCheck {
  Id name;
  bool read = false;
  std::unordered_map<Id, ArchiveEntry, IdHash> entries;
  std::string failure;
};

CatalogForCheck read_catalog_for_check(Repository& repository, const std::vector<Id>& listed) {
  CatalogForCheck catalog;
  catalog.name = archive_entry_name(repository, archive_catalog_key());
  if (!std::binary_search(listed.begin(), listed.end(), catalog.name)) return catalog;
  try {
    ArchiveEntry entry = load_archive_entries(repository, {catalog.name}).front();
    catalog.entries = decode_archive_catalog(repository, read_archived_file(repository, entry));
    catalog.read = true;
  } catch (const Error& e) {
    if (e.code() == ExitCode::interrupted) throw;
    catalog.failure = "archive catalog " + catalog.name.hex() + ": " + e.what();
  }
  return catalog;
}

}  // namespace

CheckResult check_repository(Repository& repository, const CheckOptions& options) {
  CheckResult result;
  // Small objects (index files, snapshots, archive entries) loaded at once: from a far site
  // each is a round trip.
  unsigned loaders = static_cast<unsigned>(std::max<size_t>(4, 2 * repository.backend().background_saves()));
  // 1. Index files.
  std::vector<std::string> index_names;
  repository.backend().list(FileType::index, [&](const std::string& name, uint64_t) { index_names.push_back(name); });
  std::vector<std::string> failures;
  auto index_files = load_each(
      index_names.size(), loaders,
      [&](size_t i) { return decode_index_file(repository.load_object(FileType::index, index_names[i])); }, failures);
  for (size_t i = 0; i < index_names.size(); ++i) {
    if (index_files[i])
      repository.index().add_file(std::move(*index_files[i]));
    else
      result.errors.push_back("index file " + index_names[i] + ": " + failures[i]);
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

  // 3. Read data, and meanwhile load the snapshots and archive entries (the round trips of
  // the one overlap the other's reads).
  std::vector<const IndexFile::Pack*> selected;
  if (options.read_fraction > 0 || options.read_parts > 0) {
    for (const auto& pack : packs)
      if (stored_packs.count(pack.id.hex()) && in_part(pack.id, options)) selected.push_back(&pack);
    if (options.read_parts == 0 && options.read_fraction < 1) {
      std::mt19937_64 random(std::random_device{}());
      std::shuffle(selected.begin(), selected.end(), random);
      size_t count = static_cast<size_t>(selected.size() * options.read_fraction + 0.999999);
      selected.resize(std::min(count, selected.size()));
    }
  }
  std::vector<PackFindings> findings(selected.size());
  std::vector<std::string> snapshot_names, snapshot_failures, archive_failures;
  std::vector<Id> archive_names;
  std::vector<std::optional<Snapshot>> snapshots;
  std::vector<std::optional<ArchiveEntry>> entries;
  CatalogForCheck catalog;
  std::vector<Id> from_catalog;
  run_parallel(2, 2, [&](size_t part) {
    if (part == 0) {
      run_parallel(selected.size(), repository.whole_pack_readers(), [&](size_t i) {
        throw_if_interrupted();
        findings[i] = read_pack(repository, *selected[i], stored_packs.at(selected[i]->id.hex()));
      });
      return;
    }
    repository.backend().list(FileType::snapshot, [&](const std::string& name, uint64_t) { snapshot_names.push_back(name); });
    snapshots = load_each(
        snapshot_names.size(), loaders, [&](size_t i) { return load_snapshot(repository, Id::from_hex(snapshot_names[i])); },
        snapshot_failures);
    archive_names = list_archive_entries(repository);
    catalog = read_catalog_for_check(repository, archive_names);
    // In a rotation (part k of n) an entry outside the part is taken from the catalog when it
    // holds it: each is read itself once a rotation, not once a part.
    if (options.read_parts > 0 && catalog.read)
      std::erase_if(archive_names, [&](const Id& name) {
        bool elsewhere = !in_part(name, options) && catalog.entries.count(name);
        if (elsewhere) from_catalog.push_back(name);
        return elsewhere;
      });
    entries = load_each(
        archive_names.size(), loaders, [&](size_t i) { return load_archive_entries(repository, {archive_names[i]}).front(); },
        archive_failures);
  });
  for (PackFindings& found : findings) {
    if (found.read) result.packs_read++;
    result.blobs_read += found.blobs_read;
    for (std::string& error : found.errors) result.errors.push_back(std::move(error));
    damaged.insert(found.damaged.begin(), found.damaged.end());
  }

  // 4. Snapshots and their trees; files that use missing or damaged blobs are named.
  std::unordered_set<Id, IdHash> seen_trees;
  TreeWalker walker(repository);
  for (size_t i = 0; i < snapshot_names.size(); ++i) {
    if (!snapshots[i]) {
      result.errors.push_back("snapshot " + snapshot_names[i] + ": " + snapshot_failures[i]);
      continue;
    }
    const Snapshot& snapshot = result.snapshot_list.emplace_back(std::move(*snapshots[i]));
    result.snapshots++;
    // Trees are shared between snapshots: walk each once for structure, but every
    // snapshot's own walk when naming affected files.
    std::unordered_set<Id, IdHash> seen_here;
    std::unordered_set<Id, IdHash>& seen = damaged.empty() ? seen_trees : seen_here;
    walker.walk(
        snapshot.tree, seen,
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
  std::sort(result.snapshot_list.begin(), result.snapshot_list.end(), [](const Snapshot& a, const Snapshot& b) {
    return a.time_ns != b.time_ns ? a.time_ns < b.time_ns : a.id < b.id;
  });
  // 5. Archive entries (WAL files): each read on its own, so that every damaged one is named.
  for (size_t i = 0; i < entries.size(); ++i) {
    if (!entries[i]) {
      result.errors.push_back(archive_failures[i]);
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
  // The catalog, which forget and prune read instead of the entries, must agree with them.
  if (!catalog.failure.empty()) result.errors.push_back(catalog.failure);
  for (std::string& error : archive_catalog_disagreements(catalog.name, catalog.entries, result.archive))
    result.errors.push_back(std::move(error));
  // The rest of the rotation's entries, as the catalog holds them (for the archive's continuity).
  for (const Id& name : from_catalog) {
    result.archive.push_back(std::move(catalog.entries.at(name)));
    result.archive_entries++;
  }
  std::sort(result.affected.begin(), result.affected.end());
  result.affected.erase(std::unique(result.affected.begin(), result.affected.end()), result.affected.end());
  return result;
}

}  // namespace obkeep::repo
