// start_restore: from a far store the index, the snapshot and its trees are read while the
// lock is taken and kept when the index is unchanged; when a prune replaced index files in
// between (here: one appears as our lock is saved), the index is loaded again and the
// snapshot found again, and the lock is held either way.
#include "archiver/restore_start.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

#include "repo/memory_repository_for_tests.hpp"
#include "repo/tree.hpp"

namespace obkeep::archiver {
namespace {

// A far store that runs `on_lock_saved` once, when the first lock is saved and the index
// has been listed (so that what it adds comes after the early load's listing).
class LockHookBackend : public repo::FarMemoryBackend {
 public:
  std::function<void()> on_lock_saved;
  std::atomic<bool> index_listed{false};
  void save(const storage::Handle& handle, ByteView data) override {
    FarMemoryBackend::save(handle, data);
    if (handle.type != storage::FileType::lock || !on_lock_saved) return;
    for (int wait = 0; !index_listed && wait < 500; ++wait) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::exchange(on_lock_saved, {})();
  }
  void list(storage::FileType type, const std::function<void(const std::string&, uint64_t)>& visit) override {
    FarMemoryBackend::list(type, visit);
    if (type == storage::FileType::index) index_listed = true;
  }
};

struct Far {
  LockHookBackend* backend;
  std::unique_ptr<repo::Repository> repository;
};

Far far_repository_with_a_snapshot() {
  auto owned = std::make_unique<LockHookBackend>();
  LockHookBackend* backend = owned.get();
  repo::Repository::init(*backend, "pw", repo::cheap_init_options());
  auto repository = repo::Repository::open(std::move(owned), "pw");
  repo::Tree tree;
  repo::Node file;
  file.name = "file";
  tree.nodes.push_back(file);
  repo::Snapshot snapshot;
  snapshot.tree = repo::save_tree(*repository, tree);
  snapshot.paths = {"/opt/wso2"};
  repo::flush_and_save_snapshot(*repository, snapshot);
  return {backend, std::move(repository)};
}

TEST(StartRestore, ReadsTheIndexSnapshotAndTreesWhileTheLockIsTaken) {
  Far far = far_repository_with_a_snapshot();
  RestoreStart start = start_restore(*far.repository, "latest", {}, true);
  EXPECT_FALSE(start.index_reloaded);
  ASSERT_TRUE(start.trees);
  EXPECT_EQ(start.trees->load(start.snapshot.tree).nodes.at(0).name, "file");
  EXPECT_EQ(repo::list_locks(*far.repository).size(), 1u);
  start.lock.reset();
  EXPECT_TRUE(repo::list_locks(*far.repository).empty());
}

TEST(StartRestore, AnIndexChangedWhileTheLockWasTakenIsLoadedAgain) {
  Far far = far_repository_with_a_snapshot();
  LockHookBackend* backend = far.backend;
  repo::Repository& repository = *far.repository;
  // While our lock is saved, another process stores a blob and its index file.
  Id added;
  backend->on_lock_saved = [&] {
    auto other = repo::Repository::open(std::make_unique<storage::MemoryBackend>(*backend), "pw");
    added = other->save_blob(repo::BlobType::data, Bytes(2000, 'z'));
    other->flush();
    for (storage::FileType type : {storage::FileType::pack, storage::FileType::index})
      other->backend().list(type, [&](const std::string& name, uint64_t) {
        storage::Handle handle{type, name};
        if (!backend->stat(handle)) backend->MemoryBackend::save(handle, other->backend().load(handle, 0, 0));
      });
  };
  RestoreStart start = start_restore(repository, "latest", {}, true);
  EXPECT_TRUE(start.index_reloaded);
  EXPECT_TRUE(repository.index().has(added));
  EXPECT_TRUE(repository.index_is_current());
  ASSERT_TRUE(start.trees);
  EXPECT_EQ(start.trees->load(start.snapshot.tree).nodes.at(0).name, "file");
  EXPECT_EQ(repo::list_locks(repository).size(), 1u);
}

TEST(StartRestore, AnUnknownSnapshotIsNamedAndLeavesNoLock) {
  Far far = far_repository_with_a_snapshot();
  try {
    start_restore(*far.repository, "deadbeef", {}, true);
    FAIL() << "an unknown snapshot was found";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("deadbeef"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(repo::list_locks(*far.repository).empty());
}

}  // namespace
}  // namespace obkeep::archiver
