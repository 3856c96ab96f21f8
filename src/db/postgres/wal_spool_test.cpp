// The WAL spool: spooled files are pushed and removed; a failed drain is recorded, keeps the
// files, and a later drain pushes them and clears it; a drain over an empty spool ends.
#include "db/postgres/wal_spool.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "db/postgres/wal_archive.hpp"
#include "repo/archive_entry.hpp"
#include "repo/memory_repository_for_tests.hpp"
#include "storage/local/local_backend.hpp"
#include "util/whole_file.hpp"

namespace obkeep::db {

namespace {

namespace fs = std::filesystem;

class WalSpoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/obkeep-wal-spool-test.XXXXXX";
    root_ = mkdtemp(pattern);
    storage::LocalBackend backend(root_ / "repo");
    repo::Repository::init(backend, "pw", repo::cheap_init_options());
  }
  void TearDown() override { fs::remove_all(root_); }

  std::unique_ptr<repo::Repository> open() {
    return repo::Repository::open(std::make_unique<storage::LocalBackend>(root_ / "repo"), "pw");
  }
  std::string segment(const std::string& name, uint32_t seed) {
    std::string path = (root_ / name).string();
    write_file_durably(path, repo::pseudo_random(50000, seed), "WAL file");
    return path;
  }
  size_t queued() const {
    size_t count = 0;
    for (const auto& entry : fs::directory_iterator(root_ / "spool" / "main" / "queue")) count += entry.is_regular_file();
    return count;
  }

  fs::path root_;
  DrainOptions quick{16, 0};
};

}  // namespace

TEST_F(WalSpoolTest, SpooledFilesArePushedAndRemoved) {
  WalSpool spool((root_ / "spool").string(), "main");
  for (int i = 1; i <= 20; ++i) spool.add(segment("0000000100000000000000" + std::to_string(10 + i), i));
  EXPECT_EQ(queued(), 20u);
  EXPECT_TRUE(spool.drainer_missing());
  ASSERT_TRUE(drain_wal_spool(spool, [&] { return open(); }, quick));
  EXPECT_EQ(queued(), 0u);
  EXPECT_FALSE(spool.failure());
  auto repository = open();
  EXPECT_EQ(repo::list_archive_entries(*repository).size(), 20u);
  std::string fetched = (root_ / "fetched").string();
  ASSERT_TRUE(fetch_wal_file(*repository, "main", "000000010000000000000015", fetched));
  EXPECT_EQ(read_whole_file(fetched, "fetched"), repo::pseudo_random(50000, 5));
}

TEST_F(WalSpoolTest, AFailedDrainIsRecordedUntilADrainSucceeds) {
  WalSpool spool((root_ / "spool").string(), "main");
  spool.add(segment("000000010000000000000001", 1));
  bool ok = drain_wal_spool(spool, []() -> std::unique_ptr<repo::Repository> { throw Error("cannot open repository at /x"); }, quick);
  EXPECT_FALSE(ok);
  ASSERT_TRUE(spool.failure());
  EXPECT_NE(spool.failure()->find("asynchronous WAL push of stanza main failed: cannot open repository at /x"), std::string::npos)
      << *spool.failure();
  EXPECT_EQ(queued(), 1u);  // kept for the next drain
  ASSERT_TRUE(drain_wal_spool(spool, [&] { return open(); }, quick));
  EXPECT_FALSE(spool.failure());
  EXPECT_EQ(queued(), 0u);
}

TEST_F(WalSpoolTest, AFileArchivedWithOtherContentFailsAloneAndStaysQueued) {
  {
    auto repository = open();
    push_wal_file(*repository, "main", segment("000000010000000000000001", 1));
  }
  WalSpool spool((root_ / "spool").string(), "main");
  spool.add(segment("000000010000000000000001", 2));  // other content under the same name
  spool.add(segment("000000010000000000000002", 3));
  EXPECT_FALSE(drain_wal_spool(spool, [&] { return open(); }, quick));
  EXPECT_NE(spool.failure()->find("already archived with different content"), std::string::npos) << *spool.failure();
  EXPECT_EQ(queued(), 1u);  // the good one went
  EXPECT_TRUE(repo::load_archive_entry(*open(), wal_key("main", "000000010000000000000002")));
}

}  // namespace obkeep::db
