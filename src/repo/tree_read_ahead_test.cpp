// TreeReadAhead: a walk down a snapshot's trees gets each tree as saved, and the trees of a
// small tree pack come from one read of its span, not one read a level, also when file data
// was saved between them; a pack's trees far apart are spans of their own; a span that
// cannot be read falls back to a read a tree; a damaged tree is named.
#include "repo/tree_read_ahead.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

#include "crypto/aead.hpp"
#include "repo/memory_repository_for_tests.hpp"
#include "util/error.hpp"

namespace obkeep::repo {
namespace {

// Counts pack reads (the base class's read() goes through load()).
class CountingBackend : public storage::MemoryBackend {
 public:
  std::atomic<int> pack_reads{0};
  Bytes load(const storage::Handle& handle, uint64_t offset, uint64_t length) override {
    if (handle.type == storage::FileType::pack) ++pack_reads;
    return MemoryBackend::load(handle, offset, length);
  }
};

// A chain of `depth` directories, each holding a file and the next directory; with
// `data_between`, that many random bytes of file data are saved before each tree.
Id save_chain(Repository& repository, int depth, size_t data_between = 0) {
  std::optional<Id> below;
  for (int level = depth; level > 0; --level) {
    if (data_between) {
      Bytes data(data_between);
      crypto::random_bytes(data.data(), data.size());
      repository.save_blob(BlobType::data, data);
    }
    Tree tree;
    Node file;
    file.name = "file" + std::to_string(level);
    file.size = 0;
    tree.nodes.push_back(file);
    below = save_chain_level(repository, tree, level, below);
  }
  return *below;
}

// A repository over a CountingBackend.
struct Counting {
  CountingBackend* backend;
  std::unique_ptr<Repository> repository;
};
Counting counting_repository() {
  auto owned = std::make_unique<CountingBackend>();
  CountingBackend* backend = owned.get();
  Repository::init(*backend, "pw", cheap_init_options());
  return {backend, Repository::open(std::move(owned), "pw")};
}

// Walks a chain down from `root` through `trees`, checking each level's file; returns the
// number of levels.
int walk_chain(TreeReadAhead& trees, const Id& root) {
  int levels = 0;
  for (std::optional<Id> next = root; next; ++levels) {
    Tree tree = trees.load(*next);
    EXPECT_FALSE(tree.nodes.empty());
    if (tree.nodes.empty()) break;
    EXPECT_EQ(tree.nodes[0].name, "file" + std::to_string(levels + 1));
    const Node* below = tree.find("level" + std::to_string(levels + 2));
    next = below ? below->subtree : std::nullopt;
  }
  return levels;
}

TEST(TreeReadAhead, TheTreesOfASmallTreePackComeFromOneReadOfItsSpan) {
  auto [backend, repository] = counting_repository();
  constexpr int depth = 12;
  Id root = save_chain(*repository, depth);
  repository->flush();
  backend->pack_reads = 0;

  TreeReadAhead trees(*repository, 4, 4096);
  EXPECT_EQ(walk_chain(trees, root), depth);
  EXPECT_EQ(backend->pack_reads.load(), 1) << "one read for the pack's span of trees, not one a level";
}

// A root prefetched before the walk (a restore starts it while it takes its lock): the whole
// chain is read without a walk asking, and the walk then reads nothing more.
TEST(TreeReadAhead, APrefetchedRootIsReadWithItsSubtreesBeforeTheWalkAsks) {
  auto [backend, repository] = counting_repository();
  constexpr int depth = 6;
  Id root = save_chain(*repository, depth, 2 * 1024 * 1024);
  repository->flush();
  backend->pack_reads = 0;
  TreeReadAhead trees(*repository, 2, 4096);
  trees.prefetch(root);
  trees.prefetch(root);  // once is enough
  for (int wait = 0; backend->pack_reads.load() == 0 && wait < 500; ++wait)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(backend->pack_reads.load(), 1) << "the prefetch did not read the root's span";
  EXPECT_EQ(walk_chain(trees, root), depth);
  EXPECT_EQ(backend->pack_reads.load(), 1);
}

// A backup saves each directory's tree after its files. Trees go in packs of their own, so
// the walk's trees are still one read away, not one read a level (with the trees spread
// between 24 MiB of file data, they were more than the largest span apart).
TEST(TreeReadAhead, TreesSavedBetweenFileDataComeFromOneRead) {
  auto [backend, repository] = counting_repository();
  constexpr int depth = 12;
  Id root = save_chain(*repository, depth, 2 * 1024 * 1024);
  repository->flush();
  for (const IndexFile::Pack& pack : repository->index().packs()) {
    ASSERT_FALSE(pack.blobs.empty());
    for (const PackedBlob& blob : pack.blobs) EXPECT_EQ(blob.type, pack.blobs.front().type) << "a pack mixes trees and data";
  }
  backend->pack_reads = 0;
  TreeReadAhead trees(*repository, 4, 4096);
  EXPECT_EQ(walk_chain(trees, root), depth);
  EXPECT_EQ(backend->pack_reads.load(), 1);
}

// Repositories written before trees had packs of their own mix them with file data: trees
// near each other share a span, trees far apart (or past the largest span) start a new one.
TEST(TreeReadAhead, APacksTreesFarApartAreSpansOfTheirOwn) {
  Index index;
  Id pack = Id::from_hex(std::string(64, 'a'));
  auto blob = [](BlobType type, uint32_t offset, uint32_t length, char name) {
    return PackedBlob{type, offset, length, length, Id::from_hex(std::string(64, name))};
  };
  constexpr uint32_t mib = 1024 * 1024;
  index.add_pack(pack, {blob(BlobType::tree, 0, 1000, '1'), blob(BlobType::data, 1000, 100000, '2'),
                        blob(BlobType::tree, 101000, 500, '3'), blob(BlobType::data, 101500, 3 * mib, '4'),
                        blob(BlobType::tree, 101500 + 3 * mib, 200, '5'), blob(BlobType::tree, 101700 + 3 * mib, mib, '6')});
  auto spans = index.tree_spans(256 * 1024, 4 * mib);
  ASSERT_EQ(spans.size(), 1u);
  const std::vector<Index::Span>& of_pack = spans.at(pack);
  ASSERT_EQ(of_pack.size(), 2u);
  EXPECT_EQ(of_pack[0].offset, 0u);
  EXPECT_EQ(of_pack[0].length, 101500u) << "two trees 100 KB apart: one span";
  EXPECT_EQ(of_pack[1].offset, 101500u + 3 * mib) << "a tree 3 MiB further: a span of its own";
  EXPECT_EQ(of_pack[1].length, 200u + mib);
  EXPECT_EQ(index.tree_spans(256 * 1024, mib).at(pack).size(), 3u) << "the largest span bounds a span";
}

// A store that refuses pack reads longer than `longest` (a range that cannot be fetched).
class ShortReadsOnly : public storage::MemoryBackend {
 public:
  std::atomic<uint64_t> longest{UINT64_MAX};
  Bytes load(const storage::Handle& handle, uint64_t offset, uint64_t length) override {
    if (handle.type == storage::FileType::pack && length > longest) throw Error("read refused");
    return MemoryBackend::load(handle, offset, length);
  }
};

TEST(TreeReadAhead, ASpanThatCannotBeReadSendsItsTreesToOneReadEach) {
  auto owned = std::make_unique<ShortReadsOnly>();
  ShortReadsOnly* backend = owned.get();
  Repository::init(*backend, "pw", cheap_init_options());
  std::unique_ptr<Repository> repository = Repository::open(std::move(owned), "pw");
  Id root = save_chain(*repository, 6);
  repository->flush();
  auto spans = repository->index().tree_spans(TreeReadAhead::span_gap, TreeReadAhead::largest_span);
  ASSERT_EQ(spans.size(), 1u);
  ASSERT_EQ(spans.begin()->second.size(), 1u);
  backend->longest = spans.begin()->second.front().length - 1;  // every tree alone, never the span
  TreeReadAhead trees(*repository, 2, 4096);
  EXPECT_EQ(walk_chain(trees, root), 6);
}

TEST(TreeReadAhead, ADamagedTreeInASpanIsNamed) {
  MemoryRepository memory = make_memory_repository();
  Id root = save_chain(*memory.repository, 3);
  memory.repository->flush();
  BlobLocation location = memory.repository->locate(root);
  Bytes& pack = memory.backend->objects()[{storage::FileType::pack, location.pack.hex()}];
  pack[location.offset + 5] ^= 1;  // the root tree's bytes
  TreeReadAhead trees(*memory.repository, 2, 4096);
  try {
    trees.load(root);
    FAIL() << "a damaged tree was read";
  } catch (const IntegrityError& e) {
    EXPECT_NE(std::string(e.what()).find(root.hex().substr(0, 8)), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace obkeep::repo
