// Prune on a store that refuses to delete some objects yet (S3 Object Lock retention).
#include "repo/prune.hpp"

#include <gtest/gtest.h>

#include <set>

#include "repo/memory_repository_for_tests.hpp"
#include "storage/mem/memory_backend.hpp"
#include "util/error.hpp"

namespace obkeep::repo {

namespace {

using storage::FileType;
using Object = std::pair<FileType, std::string>;

// Objects in `retained` are under retention until far ahead, and refuse to be removed.
class RetainingBackend : public storage::MemoryBackend {
 public:
  std::set<Object> retained;

  std::optional<int64_t> retained_until(const storage::Handle& handle) override {
    if (!retained.count({handle.type, handle.name})) return std::nullopt;
    return int64_t{4102444800} * 1000000000;  // 2100-01-01
  }
  void remove(const storage::Handle& handle) override {
    if (retained.count({handle.type, handle.name})) throw Error("retained: " + handle.name);
    MemoryBackend::remove(handle);
  }
  std::set<std::string> names(FileType type) {
    std::set<std::string> out;
    list(type, [&](const std::string& name, uint64_t) { out.insert(name); });
    return out;
  }
};

struct Fixture {
  RetainingBackend* backend;
  std::unique_ptr<Repository> repository;
};

// A repository with one pack and one index file, and no snapshot: prune finds the pack unused.
Fixture repository_with_an_unused_pack() {
  auto backend = std::make_unique<RetainingBackend>();
  Repository::init(*backend, "pw", cheap_init_options());
  RetainingBackend* raw = backend.get();
  auto repository = Repository::open(std::move(backend), "pw");
  repository->save_blob(BlobType::data, Bytes(1000, 'x'));
  repository->flush();
  return {raw, std::move(repository)};
}

// Every pack any index file names is stored (what check verifies).
void expect_index_consistent(RetainingBackend& backend) {
  auto repository = Repository::open(std::make_unique<RetainingBackend>(backend), "pw");
  repository->load_index();
  std::set<std::string> packs = backend.names(FileType::pack);
  for (const IndexFile::Pack& pack : repository->index().packs())
    EXPECT_TRUE(packs.count(pack.id.hex())) << "index names a missing pack " << pack.id.hex();
}

}  // namespace

TEST(PruneRetention, WithoutRetentionAnUnusedPackAndItsIndexGo) {
  auto [backend, repository] = repository_with_an_unused_pack();
  repository->load_index();
  PruneResult result = prune(*repository, {});
  EXPECT_EQ(result.packs_deleted, 1u);
  EXPECT_EQ(result.packs_retained + result.index_files_retained, 0u);
  EXPECT_TRUE(backend->names(FileType::pack).empty());
}

TEST(PruneRetention, ARetainedIndexFileKeepsThePacksItNamesButTheNewIndexDoesNotNameThem) {
  auto [backend, repository] = repository_with_an_unused_pack();
  std::string pack = *backend->names(FileType::pack).begin();
  std::string index = *backend->names(FileType::index).begin();
  backend->retained.insert({FileType::index, index});
  repository->load_index();
  PruneResult result = prune(*repository, {});
  EXPECT_EQ(result.packs_retained, 1u);
  EXPECT_EQ(result.index_files_retained, 1u);
  EXPECT_EQ(result.packs_deleted, 0u);
  EXPECT_GT(result.retained_until, 0);
  EXPECT_TRUE(backend->names(FileType::pack).count(pack));
  ASSERT_EQ(backend->names(FileType::index).size(), 2u);  // the retained one and the new one
  for (const std::string& name : backend->names(FileType::index)) {
    if (name == index) continue;
    IndexFile fresh = decode_index_file(repository->load_object(FileType::index, name));
    EXPECT_TRUE(fresh.packs.empty()) << "the new index names a pack kept only for the retained index";
  }
  expect_index_consistent(*backend);

  // Once the index file's retention ends, the next prune frees both.
  backend->retained.clear();
  auto reopened = Repository::open(std::make_unique<RetainingBackend>(*backend), "pw");
  RetainingBackend& next = static_cast<RetainingBackend&>(reopened->backend());
  reopened->load_index();
  PruneResult later = prune(*reopened, {});
  EXPECT_EQ(later.packs_deleted, 1u);
  EXPECT_EQ(later.packs_retained, 0u);
  EXPECT_TRUE(next.names(FileType::pack).empty());
}

TEST(PruneRetention, ARetainedPackStaysNamedByTheNewIndexWhileItsIndexFileGoes) {
  auto [backend, repository] = repository_with_an_unused_pack();
  std::string pack = *backend->names(FileType::pack).begin();
  std::string index = *backend->names(FileType::index).begin();
  backend->retained.insert({FileType::pack, pack});
  repository->load_index();
  PruneResult result = prune(*repository, {});
  EXPECT_EQ(result.packs_retained, 1u);
  EXPECT_EQ(result.index_files_retained, 0u);
  EXPECT_EQ(result.packs_deleted, 0u);
  EXPECT_EQ(result.bytes_freed, 0u);
  EXPECT_TRUE(backend->names(FileType::pack).count(pack));
  EXPECT_FALSE(backend->names(FileType::index).count(index));
  expect_index_consistent(*backend);
  auto reopened = Repository::open(std::make_unique<RetainingBackend>(*backend), "pw");
  reopened->load_index();
  EXPECT_TRUE(reopened->index().has_pack(Id::from_hex(pack)));
}

}  // namespace obkeep::repo
