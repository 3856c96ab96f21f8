// TreeReadAhead: a walk down a snapshot's trees gets each tree as saved, and the trees of a
// small tree pack come from one read of its span, not one read a level; a span that cannot
// be read falls back to a read a tree; a damaged tree is named.
#include "repo/tree_read_ahead.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>

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

// A chain of `depth` directories, each holding a file and the next directory.
Id save_chain(Repository& repository, int depth) {
  std::optional<Id> below;
  for (int level = depth; level > 0; --level) {
    Tree tree;
    Node file;
    file.name = "file" + std::to_string(level);
    file.size = 0;
    tree.nodes.push_back(file);
    if (below) {
      Node directory;
      directory.name = "level" + std::to_string(level + 1);
      directory.type = NodeType::directory;
      directory.subtree = below;
      tree.nodes.push_back(directory);
    }
    below = save_tree(repository, tree);
  }
  return *below;
}

TEST(TreeReadAhead, TheTreesOfASmallTreePackComeFromOneReadOfItsSpan) {
  auto owned = std::make_unique<CountingBackend>();
  CountingBackend* backend = owned.get();
  Repository::init(*backend, "pw", cheap_init_options());
  std::unique_ptr<Repository> repository = Repository::open(std::move(owned), "pw");
  constexpr int depth = 12;
  Id root = save_chain(*repository, depth);
  repository->flush();
  backend->pack_reads = 0;

  TreeReadAhead trees(*repository, 4, 4096);
  int levels = 0;
  for (std::optional<Id> next = root; next; ++levels) {
    Tree tree = trees.load(*next);
    ASSERT_FALSE(tree.nodes.empty());
    EXPECT_EQ(tree.nodes[0].name, "file" + std::to_string(levels + 1));
    const Node* below = tree.find("level" + std::to_string(levels + 2));
    next = below ? below->subtree : std::nullopt;
  }
  EXPECT_EQ(levels, depth);
  EXPECT_EQ(backend->pack_reads.load(), 1) << "one read for the pack's span of trees, not one a level";
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
  auto spans = repository->index().tree_spans();
  ASSERT_EQ(spans.size(), 1u);
  backend->longest = spans.begin()->second.length - 1;  // every tree alone, never the span
  TreeReadAhead trees(*repository, 2, 4096);
  int levels = 0;
  for (std::optional<Id> next = root; next; ++levels) {
    Tree tree = trees.load(*next);
    const Node* below = tree.find("level" + std::to_string(levels + 2));
    next = below ? below->subtree : std::nullopt;
  }
  EXPECT_EQ(levels, 6);
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
