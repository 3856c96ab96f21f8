// check at a far site: packs are read side by side, not one after another; what they show
// is reported in the packs' order however the reads interleave; the snapshots' trees come
// from the reads of their spans, not a read a directory, and trees shared by snapshots are
// walked once; prune walks them the same way.
#include "repo/check.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "repo/memory_repository_for_tests.hpp"
#include "repo/prune.hpp"
#include "repo/snapshot.hpp"
#include "repo/tree.hpp"

namespace obkeep::repo {
namespace {

using storage::FileType;

struct Far {
  FarMemoryBackend* backend;
  std::unique_ptr<Repository> repository;
};

Far far_repository() {
  auto owned = std::make_unique<FarMemoryBackend>();
  FarMemoryBackend* backend = owned.get();
  Repository::init(*backend, "pw", cheap_init_options());
  return {backend, Repository::open(std::move(owned), "pw")};
}

// `packs` data packs of one file each, in a chain of `depth` directories (a file per level;
// the deepest levels hold the files), and a snapshot of it. Returns the data packs' ids in
// the order the files were saved.
std::vector<Id> save_files_in_chain(Repository& repository, int packs, int depth) {
  std::vector<Id> blobs;
  for (int i = 0; i < packs; ++i) {
    blobs.push_back(repository.save_blob(BlobType::data, pseudo_random(64 * 1024, static_cast<uint32_t>(i))));
    repository.flush();  // one pack each
  }
  std::optional<Id> below;
  for (int level = depth; level > 0; --level) {
    Tree tree;
    for (int i = 0; level == depth && i < packs; ++i) {
      Node file;
      file.name = "file" + std::to_string(i);
      file.size = 64 * 1024;
      file.content = {blobs[static_cast<size_t>(i)]};
      tree.nodes.push_back(file);
    }
    below = save_chain_level(repository, tree, level, below);
  }
  repository.flush();
  Snapshot snapshot;
  snapshot.tree = *below;
  snapshot.time_ns = 1;
  save_snapshot(repository, snapshot);
  std::vector<Id> pack_ids;
  for (const Id& blob : blobs) pack_ids.push_back(repository.locate(blob).pack);
  return pack_ids;
}

}  // namespace

TEST(CheckAtAFarSite, PacksAreReadSideBySideAndTheDamagedOnesNamedInOrder) {
  auto [backend, repository] = far_repository();
  std::vector<Id> packs = save_files_in_chain(*repository, 12, 1);
  // Two damaged packs, named in the report in the index's order of packs.
  for (size_t damaged : {3u, 9u}) backend->objects()[{FileType::pack, packs[damaged].hex()}][1000] ^= 0x55;  // inside its file's blob
  auto fresh = Repository::open(std::make_unique<FarMemoryBackend>(*backend), "pw");
  auto* far = static_cast<FarMemoryBackend*>(&fresh->backend());
  CheckOptions options;
  options.read_fraction = 1;
  CheckResult result = check_repository(*fresh, options);

  EXPECT_GE(far->most_reading.load(), 2) << "packs were read one after another";
  EXPECT_EQ(result.packs_read, result.packs);
  std::vector<std::string> damaged_packs;
  for (const std::string& error : result.errors)
    if (error.find("is damaged: its content does not match its name") != std::string::npos) damaged_packs.push_back(error);
  ASSERT_EQ(damaged_packs.size(), 2u);
  std::vector<IndexFile::Pack> indexed = fresh->index().packs();
  auto position = [&](const Id& pack) {
    return std::find_if(indexed.begin(), indexed.end(), [&](const IndexFile::Pack& p) { return p.id == pack; }) - indexed.begin();
  };
  bool third_first = position(packs[3]) < position(packs[9]);
  EXPECT_NE(damaged_packs[third_first ? 0 : 1].find(packs[3].hex()), std::string::npos);
  EXPECT_NE(damaged_packs[third_first ? 1 : 0].find(packs[9].hex()), std::string::npos);
  // The files in them are named as affected; the snapshot is the one found.
  EXPECT_EQ(result.affected.size(), 2u);
  ASSERT_EQ(result.snapshot_list.size(), 1u);
  EXPECT_EQ(result.snapshots, 1u);
}

TEST(CheckAtAFarSite, TheTreesOfADeepSnapshotComeFromAFewReads) {
  auto [backend, repository] = far_repository();
  save_files_in_chain(*repository, 2, 12);
  // A second snapshot shares the first's chain below a new root: the shared trees, read
  // ahead again under the new root, are walked once.
  Snapshot first = list_snapshots(*repository).front();
  Tree root;
  Node shared;
  shared.name = "shared";
  shared.type = NodeType::directory;
  shared.subtree = first.tree;
  root.nodes.push_back(shared);
  Snapshot second;
  second.tree = save_tree(*repository, root);
  second.time_ns = 2;
  repository->flush();
  save_snapshot(*repository, second);
  auto fresh = Repository::open(std::make_unique<FarMemoryBackend>(*backend), "pw");
  auto* far = static_cast<FarMemoryBackend*>(&fresh->backend());
  CheckResult result = check_repository(*fresh, {});  // structure only: pack reads are of trees
  EXPECT_TRUE(result.errors.empty()) << result.errors.front();
  EXPECT_EQ(result.trees, 13u);
  EXPECT_EQ(result.snapshots, 2u);
  EXPECT_LE(far->pack_reads.load(), 2) << "a read per directory level";

  // prune walks the same way, and keeps every pack the snapshot uses.
  auto pruning = Repository::open(std::make_unique<FarMemoryBackend>(*backend), "pw");
  auto* far_pruned = static_cast<FarMemoryBackend*>(&pruning->backend());
  pruning->load_index();
  PruneResult pruned = prune(*pruning, {});
  EXPECT_EQ(pruned.packs_deleted, 0u);
  EXPECT_LE(far_pruned->pack_reads.load(), 2) << "prune read a tree per directory level";
}

}  // namespace obkeep::repo
