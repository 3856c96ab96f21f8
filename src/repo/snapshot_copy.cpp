#include "repo/snapshot_copy.hpp"

#include <algorithm>
#include <future>

#include "repo/archive_catalog.hpp"
#include "repo/blob_prefetch.hpp"
#include "repo/tree.hpp"
#include "util/interrupt.hpp"
#include "util/parallel_tasks.hpp"
#include "util/thread_pool.hpp"

namespace obkeep::repo {

namespace {

// Blobs are read from the source in pack order, in batches of neighbours (one read per run,
// see BlobPrefetch), one batch per worker at a time.
constexpr size_t batch_blobs = 64;
constexpr uint64_t batch_bytes = 16 * 1024 * 1024;

Id original_of(const Snapshot& snapshot) { return snapshot.original.value_or(snapshot.id); }

}  // namespace

CopyDestinationContents ready_copy_destination(Repository& destination, bool created) {
  CopyDestinationContents contents;
  if (created) return contents;
  destination.load_index_and_adopt_packs([&] {
    run_parallel(2, destination.backend().background_saves() ? 2 : 1, [&](size_t i) {
      if (i == 0) contents.snapshots = list_snapshots(destination);
      if (i == 1) contents.archive_entries = list_archive_entries(destination);
    });
  });
  return contents;
}

SnapshotCopier::SnapshotCopier(Repository& source, Repository& destination, CopyDestinationContents present,
                               unsigned workers)
    : source_(source),
      destination_(destination),
      workers_(workers ? workers : 2 * ThreadPool::default_workers()),
      related_(source.key().id_key == destination.key().id_key),
      reseal_(related_ && source.blob_sealing().binding == BlobBinding::type_and_id) {
  for (const Snapshot& snapshot : present.snapshots) copied_snapshots_[original_of(snapshot)] = snapshot.id;
  archive_entries_present_ = std::move(present.archive_entries);
}

Id SnapshotCopier::copy(const Snapshot& snapshot) {
  Id original = original_of(snapshot);
  if (auto present = copied_snapshots_.find(original); present != copied_snapshots_.end()) {
    statistics_.snapshots_present++;
    return present->second;
  }
  std::vector<Id> data, trees;
  collect(snapshot.tree, data, trees);
  transfer(data, BlobType::data);
  Id root = snapshot.tree;
  if (related_) {
    // Trees keep their bytes and ids; the data they name is already in place.
    std::erase_if(trees, [&](const Id& tree) { return destination_.index().has(tree); });
    transfer(trees, BlobType::tree);
  } else {
    root = rebuild(snapshot.tree);
  }
  Snapshot copy = snapshot;
  copy.tree = root;
  copy.original = original;
  copy.parent.reset();
  if (snapshot.parent)
    if (auto parent = copied_snapshots_.find(*snapshot.parent); parent != copied_snapshots_.end())
      copy.parent = parent->second;
  // Every blob durable and indexed before the snapshot that names them appears.
  Id id = flush_and_save_snapshot(destination_, copy);
  copied_snapshots_[original] = id;
  statistics_.snapshots_copied++;
  return id;
}

size_t SnapshotCopier::copy_archive_entries(const std::function<void(const ArchiveEntry&)>& copied_entry) {
  const std::vector<Id>& present = archive_entries_present_;
  std::vector<Id> wanted;
  const Id catalog = archive_entry_name(source_, archive_catalog_key());
  for (const Id& name : list_archive_entries(source_))
    // Related repositories name a file alike: only what the destination lacks is read. The
    // source's catalog is read for the entries it holds, and not copied: it tells where
    // blobs are at the source, and the destination makes its own.
    if (!related_ || name == catalog || !std::binary_search(present.begin(), present.end(), name)) wanted.push_back(name);
  std::vector<ArchiveEntry> entries = read_archive(source_, wanted).entries;
  std::erase_if(entries, [&](const ArchiveEntry& entry) { return entry.name == catalog; });
  // In batches: one flush (a pack or a few, one index file) for many small files.
  constexpr size_t batch_entries = 1000;
  size_t copied = 0;
  for (size_t start = 0; start < entries.size(); start += batch_entries) {
    std::vector<ArchiveEntry> batch;
    for (size_t i = start; i < std::min(entries.size(), start + batch_entries); ++i) {
      ArchiveEntry& entry = entries[i];
      Id name = archive_entry_name(destination_, entry.key);
      if (!related_ && std::binary_search(present.begin(), present.end(), name)) continue;
      batch.push_back(std::move(entry));
    }
    std::vector<Id> data;
    for (const ArchiveEntry& entry : batch)
      for (const ArchivedBlob& blob : entry.blobs)
        if (related_ ? !destination_.index().has(blob.id) : !mapped_.contains(blob.id)) data.push_back(blob.id);
    transfer(data, BlobType::data);
    destination_.flush();  // every blob durable and indexed before an entry names it
    for (ArchiveEntry& entry : batch)
      for (ArchivedBlob& blob : entry.blobs) {
        if (!related_) blob.id = mapped_.at(blob.id);
        blob.stored = destination_.locate(blob.id);
      }
    // Several at once: at a far site each save is a round trip or more (2,000 entries one
    // after another took 11 minutes over SFTP at RTT 80 ms).
    unsigned savers = static_cast<unsigned>(std::max<size_t>(1, 2 * destination_.backend().background_saves()));
    run_parallel(batch.size(), savers, [&](size_t i) {
      throw_if_interrupted();
      save_archive_entry(destination_, batch[i]);
    });
    for (const ArchiveEntry& entry : batch) {
      if (copied_entry) copied_entry(entry);
      statistics_.archive_entries_copied++;
      copied++;
    }
  }
  return copied;
}

// Every tree of the snapshot is read, even one the destination has: a tree there does not
// prove that all the data beneath it arrived (another writer's crash may have left its
// data packs unindexed), and reading trees costs little next to the data (from a far
// source they are read ahead, a round trip a level).
void SnapshotCopier::collect(const Id& tree_id, std::vector<Id>& data, std::vector<Id>& trees) {
  throw_if_interrupted();
  if (!walker_) walker_ = std::make_unique<TreeWalker>(source_);
  walker_->walk(
      tree_id, trees_seen_, [&](const Id& tree) { trees.push_back(tree); },
      [&](const std::string&, const Node& node) {
        for (const Id& id : node.content) {
          bool needed = related_ ? !destination_.index().has(id) : !mapped_.contains(id);
          if (needed) data.push_back(id);  // duplicates are dropped by transfer()
        }
      },
      {});
}

void SnapshotCopier::transfer(const std::vector<Id>& wanted_ids, BlobType type) {
  std::vector<std::pair<Id, BlobLocation>> wanted;
  std::unordered_set<Id, IdHash> unique;
  for (const Id& id : wanted_ids)
    if (unique.insert(id).second) wanted.emplace_back(id, source_.locate(id));
  std::sort(wanted.begin(), wanted.end(), [](const auto& a, const auto& b) {
    return a.second.pack != b.second.pack ? a.second.pack < b.second.pack : a.second.offset < b.second.offset;
  });

  ThreadPool pool(workers_, workers_);
  std::vector<std::future<void>> batches;
  for (size_t start = 0; start < wanted.size();) {
    size_t end = start;
    uint64_t bytes = 0;
    while (end < wanted.size() && end - start < batch_blobs && bytes < batch_bytes) bytes += wanted[end++].second.stored_length;
    batches.push_back(pool.submit([this, type, batch = std::vector(wanted.begin() + start, wanted.begin() + end)] {
      std::vector<BlobLocation> locations;
      for (const auto& [id, location] : batch) locations.push_back(location);
      BlobPrefetch prefetch(source_, std::move(locations));
      Bytes plaintext;
      for (const auto& blob : batch) {
        // Named, not bound: clang 14 cannot capture structured bindings in the lambda below.
        const Id& id = blob.first;
        const BlobLocation& location = blob.second;
        throw_if_interrupted();
        if (reseal_ && type == BlobType::data) {  // trees are opened: their ids are checked as they go
          bool added = false;
          prefetch.read_sealed(location, [&](ByteView sealed) {
            try {
              added = destination_.save_resealed_blob(type, id, source_.blob_sealing(), sealed,
                                                      location.raw_length);
            } catch (const IntegrityError& e) {
              throw IntegrityError(source_.backend().location() + ": blob " + id.hex() + " in pack " +
                                   location.pack.hex() + " is damaged: " + e.what());
            }
          });
          std::lock_guard lock(mutex_);
          if (added) {
            statistics_.blobs_copied++;
            statistics_.bytes_copied += location.raw_length;
          }
          continue;
        }
        plaintext.resize(location.raw_length);
        prefetch.load_into(id, location, plaintext);
        Id target = related_ ? id : destination_.blob_id(plaintext);
        bool added = destination_.save_blob(type, target, plaintext);
        std::lock_guard lock(mutex_);
        if (!related_) mapped_[id] = target;
        if (added) {
          statistics_.blobs_copied++;
          statistics_.bytes_copied += plaintext.size();
        }
      }
    }));
    start = end;
  }
  // Wait for every batch before reporting the first failure: none may still be writing.
  std::exception_ptr failure;
  for (auto& batch : batches) {
    try {
      batch.get();
    } catch (...) {
      if (!failure) failure = std::current_exception();
    }
  }
  if (failure) std::rethrow_exception(failure);
}

// Unrelated repositories: the tree again with the destination's ids, deepest first.
Id SnapshotCopier::rebuild(const Id& tree_id) {
  if (auto done = mapped_.find(tree_id); done != mapped_.end()) return done->second;
  Tree tree = load_tree(source_, tree_id);
  for (Node& node : tree.nodes) {
    for (Id& id : node.content) id = mapped_.at(id);
    if (node.subtree) node.subtree = rebuild(*node.subtree);
  }
  uint64_t stored_before = destination_.statistics().blobs_added;
  Id id = save_tree(destination_, std::move(tree));
  if (destination_.statistics().blobs_added != stored_before) statistics_.blobs_copied++;
  mapped_[tree_id] = id;
  return id;
}

}  // namespace obkeep::repo
