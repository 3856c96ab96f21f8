// A copy from a far source (a DR site copied back to a new primary): the source's trees are
// read ahead a level at a time, and the trees the destination lacks are fetched in batches
// like the data, not one read a tree; the copy holds every tree and blob, intact.
#include "repo/snapshot_copy.hpp"

#include <gtest/gtest.h>

#include "repo/archive_file.hpp"
#include "repo/check.hpp"
#include "repo/memory_repository_for_tests.hpp"
#include "repo/tree.hpp"

namespace obkeep::repo {

TEST(SnapshotCopyFromAFarSource, TreesComeInAFewReadsAndTheCopyIsWhole) {
  auto owned = std::make_unique<FarMemoryBackend>();
  FarMemoryBackend* far = owned.get();
  Repository::init(*far, "pw", cheap_init_options());
  auto source = Repository::open(std::move(owned), "pw");
  // Twelve directories deep, a file of its own at each level.
  std::optional<Id> below;
  constexpr int depth = 12;
  for (int level = depth; level > 0; --level) {
    Tree tree;
    Node file;
    file.name = "file" + std::to_string(level);
    Bytes data = pseudo_random(16 * 1024, static_cast<uint32_t>(level));
    file.size = data.size();
    file.content = {source->save_blob(BlobType::data, data)};
    tree.nodes.push_back(file);
    below = save_chain_level(*source, tree, level, below);
  }
  source->flush();
  Snapshot snapshot;
  snapshot.tree = *below;
  snapshot.time_ns = 1;
  snapshot.id = save_snapshot(*source, snapshot);

  // A related destination (init --copy-params-from): trees keep their ids.
  auto destination_backend = std::make_unique<storage::MemoryBackend>();
  storage::MemoryBackend* destination_store = destination_backend.get();
  InitOptions related = cheap_init_options();
  related.id_key = source->key().id_key;
  Repository::init(*destination_backend, "pw", related);
  auto destination = Repository::open(std::move(destination_backend), "pw");

  auto reopened = Repository::open(std::make_unique<FarMemoryBackend>(*far), "pw");
  auto* counted = static_cast<FarMemoryBackend*>(&reopened->backend());
  reopened->load_index();
  SnapshotCopier copier(*reopened, *destination, ready_copy_destination(*destination, true));
  ASSERT_TRUE(copier.related());
  Id copied = copier.copy(snapshot);
  EXPECT_EQ(copier.statistics().blobs_copied, 2u * depth);
  // Before: a read per tree for the walk and another per tree to copy it (24 and more).
  EXPECT_LE(counted->pack_reads.load(), 6) << "a read per tree";

  auto check_copy = Repository::open(std::make_unique<storage::MemoryBackend>(*destination_store), "pw");
  CheckOptions every_pack;
  every_pack.read_fraction = 1;
  CheckResult result = check_repository(*check_copy, every_pack);
  EXPECT_TRUE(result.errors.empty()) << result.errors.front();
  EXPECT_EQ(result.trees, static_cast<uint64_t>(depth));
  EXPECT_EQ(load_snapshot(*check_copy, copied).tree, snapshot.tree);
}

// A far destination: each archive entry's save waits a few milliseconds; counts the most at once.
class SlowEntrySaves : public storage::MemoryBackend {
 public:
  std::atomic<int> saving{0}, most_saving{0};
  size_t background_saves() const override { return 4; }
  void save(const storage::Handle& handle, ByteView data) override {
    if (handle.type == storage::FileType::archive) {
      int now = ++saving;
      for (int seen = most_saving; now > seen && !most_saving.compare_exchange_weak(seen, now);) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      --saving;
    }
    MemoryBackend::save(handle, data);
  }
};

TEST(SnapshotCopyToAFarSite, ArchiveEntriesAreSavedSideBySide) {
  auto source = make_memory_repository();
  ArchiveWriter writer(*source.repository);
  constexpr int files = 40;
  for (int i = 0; i < files; ++i)
    writer.add({"wal", "main", "00000001000000000000" + std::to_string(1000 + i)}, pseudo_random(1000, static_cast<uint32_t>(i)));
  writer.commit();
  source.repository->load_index();
  auto owned = std::make_unique<SlowEntrySaves>();
  SlowEntrySaves* far = owned.get();
  InitOptions related = cheap_init_options();
  related.id_key = source.repository->key().id_key;
  Repository::init(*owned, "pw", related);
  auto destination = Repository::open(std::move(owned), "pw");
  SnapshotCopier copier(*source.repository, *destination, ready_copy_destination(*destination, true));
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(copier.copy_archive_entries(), static_cast<size_t>(files));
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GT(far->most_saving.load(), 1) << "entries saved one after another";
  EXPECT_LT(took, std::chrono::milliseconds(files * 20 / 2));
  EXPECT_EQ(list_archive_entries(*destination).size(), static_cast<size_t>(files));
}

}  // namespace obkeep::repo
