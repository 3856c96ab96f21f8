// A copy from a far source (a DR site copied back to a new primary): the source's trees are
// read ahead a level at a time, and the trees the destination lacks are fetched in batches
// like the data, not one read a tree; the copy holds every tree and blob, intact.
#include "repo/snapshot_copy.hpp"

#include <gtest/gtest.h>

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
    if (below) {
      Node directory;
      directory.name = "level" + std::to_string(level + 1);
      directory.type = NodeType::directory;
      directory.subtree = below;
      tree.nodes.push_back(directory);
    }
    below = save_tree(*source, tree);
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

}  // namespace obkeep::repo
