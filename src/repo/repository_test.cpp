// Repository facade, packs, index files, keys and locks over the in-memory backend.
#include "repo/repository.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "repo/lock.hpp"
#include "repo/memory_repository_for_tests.hpp"
#include "repo/snapshot.hpp"
#include "storage/fault/fault_backend.hpp"
#include "storage/mem/memory_backend.hpp"
#include "util/error.hpp"

namespace obkeep::repo {

namespace {

using Fixture = MemoryRepository;

Fixture make_repository(const std::string& password = "pw", int version = format_version) {
  return make_memory_repository(password, version);
}

}  // namespace

TEST(Repository, BlobsRoundTripAndDeduplicate) {
  auto [backend, repository] = make_repository();
  Bytes text(100000, 'a');
  Bytes random(100000);
  crypto::random_bytes(random.data(), random.size());
  Id a = repository->save_blob(BlobType::data, text);
  Id b = repository->save_blob(BlobType::data, random);
  EXPECT_FALSE(repository->save_blob(BlobType::data, a, text));  // in flight: deduplicated
  repository->flush();
  EXPECT_FALSE(repository->save_blob(BlobType::data, a, text));  // indexed: deduplicated
  EXPECT_EQ(repository->load_blob(a), text);
  EXPECT_EQ(repository->load_blob(b), random);
  EXPECT_EQ(repository->statistics().blobs_added, 2u);
  EXPECT_LT(repository->statistics().bytes_stored, 100000u + 100000u);  // the text compressed

  // A fresh open finds everything through the index files.
  auto reopened = Repository::open(std::make_unique<storage::MemoryBackend>(*backend), "pw");
  reopened->load_index();
  EXPECT_EQ(reopened->load_blob(b), random);
}

// Format 2 binds each blob's id into its seal: a blob moved under another id does not open.
// Format 1 binds only the type: the same move opens and the keyed hash catches it.
TEST(Repository, BlobSealsBindTheIdInFormat2AndTheHashCatchesMovesInFormat1) {
  for (int version : {2, 1}) {
    auto [backend, repository] = make_repository("pw", version);
    EXPECT_EQ(repository->config().version, version);
    Bytes a(5000, 'a'), b(5000, 'b');
    Id id_a = repository->save_blob(BlobType::data, a);
    Id id_b = repository->save_blob(BlobType::data, b);
    repository->flush();
    BlobLocation at_a = repository->locate(id_a), at_b = repository->locate(id_b);
    // The stored bytes of b, presented as a.
    Bytes sealed_b = repository->read_pack_range(at_b.pack, at_b.offset, at_b.stored_length);
    Bytes out(at_a.raw_length);
    try {
      repository->open_blob_into(id_a, at_a, sealed_b, out);
      ADD_FAILURE() << "format " << version << ": a moved blob was accepted";
    } catch (const IntegrityError& e) {
      std::string expected = version == 2 ? "damaged" : "does not match its id";
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    }
    // Decoding directly: format 2 refuses, format 1 opens b's bytes.
    if (version == 2) {
      EXPECT_THROW(decode_blob(repository->blob_sealing(), BlobType::data, id_a, sealed_b, 5000), IntegrityError);
    } else {
      EXPECT_EQ(decode_blob(repository->blob_sealing(), BlobType::data, id_a, sealed_b, 5000), b);
    }
    // Reopened, the repository keeps its format and its blobs.
    auto reopened = Repository::open(std::make_unique<storage::MemoryBackend>(*backend), "pw");
    reopened->load_index();
    EXPECT_EQ(reopened->config().version, version);
    EXPECT_EQ(reopened->load_blob(id_a), a);
    EXPECT_EQ(reopened->load_blob(id_b), b);
  }
}

TEST(Repository, UnknownFormatVersionsAreRefused) {
  for (int version : {0, format_version + 1}) {
    auto backend = std::make_unique<storage::MemoryBackend>();
    InitOptions options;
    options.scrypt = {1 << 10, 8, 1};
    options.version = version;
    Repository::init(*backend, "pw", options);
    try {
      Repository::open(std::move(backend), "pw");
      ADD_FAILURE() << "format " << version << " was opened";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("format version " + std::to_string(version)), std::string::npos) << e.what();
    }
  }
}

TEST(Repository, IndexFilesRoundTripAndRejectGarbage) {
  IndexFile file;
  file.supersedes.push_back(Id{});
  file.packs.push_back({Id{}, {{BlobType::tree, 0, 100, 80, Id{}}, {BlobType::data, 100, 50, 30, Id{}}}});
  Bytes encoded = encode_index_file(file);
  IndexFile decoded = decode_index_file(encoded);
  ASSERT_EQ(decoded.packs.size(), 1u);
  EXPECT_EQ(decoded.packs[0].blobs[1].offset, 100u);
  EXPECT_EQ(decoded.supersedes.size(), 1u);
  encoded.pop_back();
  EXPECT_THROW(decode_index_file(encoded), IntegrityError);
  EXPECT_THROW(decode_index_file(as_bytes("garbage")), IntegrityError);
}

TEST(Repository, WrongPasswordAndSeveralKeys) {
  auto [backend, repository] = make_repository("first");
  add_key_file(*backend, repository->key(), "second", {1 << 10, 8, 1});
  auto copy = [source = backend] { return std::make_unique<storage::MemoryBackend>(*source); };
  EXPECT_NO_THROW(Repository::open(copy(), "first"));
  EXPECT_NO_THROW(Repository::open(copy(), "second"));
  try {
    Repository::open(copy(), "third");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::wrong_password);
  }
  EXPECT_EQ(list_key_files(*backend).size(), 2u);
}

TEST(Repository, TamperedObjectsAreRejected) {
  auto [backend, repository] = make_repository();
  Snapshot snapshot;
  snapshot.time_ns = 1;
  snapshot.paths = {"/x"};
  Id id = save_snapshot(*repository, snapshot);
  EXPECT_EQ(load_snapshot(*repository, id).paths, snapshot.paths);
  Bytes& stored = backend->objects()[{storage::FileType::snapshot, id.hex()}];
  stored[stored.size() / 2] ^= 1;
  EXPECT_THROW(load_snapshot(*repository, id), IntegrityError);
}

TEST(Lock, ExclusiveConflictsAndStaleLocksAreIgnored) {
  auto [backend, repository] = make_repository();
  {
    RepositoryLock shared_a(*repository, false);
    RepositoryLock shared_b(*repository, false);
    try {
      RepositoryLock exclusive(*repository, true);
      FAIL() << "exclusive lock taken while shared ones are held";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::locked);
    }
  }
  EXPECT_TRUE(list_locks(*repository).empty());
  {
    RepositoryLock exclusive(*repository, true);
    EXPECT_THROW(RepositoryLock(*repository, false), Error);
  }
  // A lock not refreshed for 30 minutes is stale: ignored, and removed by remove_locks.
  nlohmann::json dead = {{"time", "2026-01-01T00:00:00Z"}, {"exclusive", true}, {"hostname", "elsewhere"},
                         {"username", "x"},                 {"pid", 1}};
  repository->save_object(storage::FileType::lock, as_bytes(dead.dump()));
  auto locks = list_locks(*repository);
  ASSERT_EQ(locks.size(), 1u);
  EXPECT_TRUE(locks[0].stale);  // older than 30 minutes
  EXPECT_NO_THROW(RepositoryLock(*repository, true));
  EXPECT_EQ(remove_locks(*repository, false), 1);
}

// What a command reads beside the lock's listing runs once the lock is saved; a conflicting
// lock still refuses the command (its message, not whatever the reads found), and on every
// failure our lock is gone.
TEST(Lock, ReadsBesideTheListingRunAfterTheSaveAndAConflictStillRefuses) {
  auto [backend, repository] = make_repository();
  size_t locks_seen = 0;
  {
    Repository& opened = *repository;  // a structured binding is not captured before C++20's clang 16
    RepositoryLock lock(*repository, false, [&] { locks_seen = list_locks(opened).size(); });
    EXPECT_EQ(locks_seen, 1u) << "the reads ran before the lock was saved";
  }
  EXPECT_TRUE(list_locks(*repository).empty());
  try {
    RepositoryLock failing(*repository, false, [] { throw Error("index unreadable"); });
    FAIL() << "a failure beside the listing was dropped";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "index unreadable");
  }
  EXPECT_TRUE(list_locks(*repository).empty()) << "a lock left behind";
  {
    RepositoryLock exclusive(*repository, true);
    try {
      RepositoryLock refused(*repository, false, [] { throw Error("index unreadable"); });
      FAIL() << "a shared lock taken beside an exclusive one";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::locked) << e.what();
    }
    EXPECT_EQ(list_locks(*repository).size(), 1u);
  }
}

// What runs while the lock is saved (`early`) reads before any lock guards it: its failure
// is reported as one beside the listing would be, a conflicting lock still wins, and the
// index it loaded is found stale once a prune (here: a new index file) changed the store.
TEST(Lock, EarlyReadsRunWhileTheLockIsSavedAndAreCheckedAfterwards) {
  auto [backend, repository] = make_repository();
  Id first = repository->save_blob(BlobType::data, Bytes(3000, 'x'));
  repository->flush();
  bool current = false;
  {
    Repository& opened = *repository;
    RepositoryLock lock(
        opened, false, [&] { current = opened.index_is_current(); }, [&] { opened.load_index(); });
    EXPECT_TRUE(current);
    EXPECT_TRUE(opened.index().has(first));
  }
  // Another process adds a pack and its index file after our load: not current; reloaded,
  // it is. (A copy of the store holds its objects then, not later ones: what the other
  // process writes is copied over.)
  auto other = Repository::open(std::make_unique<storage::MemoryBackend>(*backend), "pw");
  Id second = other->save_blob(BlobType::data, Bytes(3000, 'y'));
  other->flush();
  storage::MemoryBackend* store = backend;  // a structured binding is not captured before clang 16
  for (storage::FileType type : {storage::FileType::pack, storage::FileType::index})
    other->backend().list(type, [&](const std::string& name, uint64_t) {
      storage::Handle handle{type, name};
      if (!store->stat(handle)) store->save(handle, other->backend().load(handle, 0, 0));
    });
  EXPECT_FALSE(repository->index_is_current());
  repository->reload_index();
  EXPECT_TRUE(repository->index_is_current());
  EXPECT_TRUE(repository->index().has(first));
  EXPECT_TRUE(repository->index().has(second));
  EXPECT_EQ(repository->loaded_index_files().size(), 2u);

  bool alongside_ran = false;
  try {
    RepositoryLock failing(*repository, false, [&] { alongside_ran = true; }, [] { throw Error("no snapshot latest"); });
    FAIL() << "a failure while the lock was saved was dropped";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "no snapshot latest");
  }
  EXPECT_FALSE(alongside_ran) << "the check ran after what it checks had failed";
  EXPECT_TRUE(list_locks(*repository).empty()) << "a lock left behind";
  {
    RepositoryLock exclusive(*repository, true);
    try {
      RepositoryLock refused(*repository, false, {}, [] { throw Error("no snapshot latest"); });
      FAIL() << "a shared lock taken beside an exclusive one";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::locked) << e.what();
    }
  }
}

// A pack upload that fails (a full disk) must not strand the other savers: every thread
// gets an error promptly, later saves and flush are refused (their blobs may have been
// in the lost pack), and nothing waits forever for the writer that went with it.
TEST(Repository, AFailedPackUploadFailsEverySaverAndEveryLaterSaveWithoutHanging) {
  auto inner = std::make_unique<storage::MemoryBackend>();
  InitOptions options;
  options.scrypt = {1 << 10, 8, 1};
  Repository::init(*inner, "pw", options);
  auto faulty = std::make_unique<storage::FaultBackend>(std::move(inner),
                                                        storage::parse_fault_rules("save:pack@2+=ENOSPC"));
  auto repository = Repository::open(std::move(faulty), "pw");
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      Bytes chunk(1 << 20);
      try {
        for (int i = 0; i < 64; ++i) {
          crypto::random_bytes(chunk.data(), chunk.size());
          chunk[0] = static_cast<uint8_t>(t);
          repository->save_blob(BlobType::data, chunk);
        }
      } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("No space left on device"), std::string::npos) << e.what();
        failures++;
      }
    });
  }
  for (auto& thread : threads) thread.join();  // a hang here is the bug this test is for
  EXPECT_EQ(failures, 8);
  Bytes late(1000, 'z');
  EXPECT_THROW(repository->save_blob(BlobType::data, late), Error);
  EXPECT_THROW(repository->flush(), Error);
}

// Trees have pack writers of their own (two): a tree pack that cannot be stored fails every
// saver of trees and every later save too, and none of them hangs waiting for a writer.
TEST(Repository, AFailedTreePackUploadFailsEveryTreeSaverWithoutHanging) {
  auto inner = std::make_unique<storage::MemoryBackend>();
  InitOptions options;
  options.scrypt = {1 << 10, 8, 1};
  Repository::init(*inner, "pw", options);
  auto faulty = std::make_unique<storage::FaultBackend>(std::move(inner), storage::parse_fault_rules("save:pack@1+=EIO"));
  auto repository = Repository::open(std::move(faulty), "pw");
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      Bytes tree(1024);
      try {
        for (int i = 0; i < 12000; ++i) {  // 48 MiB in all: more than two tree packs
          crypto::random_bytes(tree.data(), tree.size());
          tree[0] = static_cast<uint8_t>(t);
          repository->save_blob(BlobType::tree, tree);
        }
      } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("Input/output error"), std::string::npos) << e.what();
        failures++;
      }
    });
  }
  for (auto& thread : threads) thread.join();  // a hang here is the bug this test is for
  EXPECT_EQ(failures, 4);
  EXPECT_THROW(repository->save_blob(BlobType::data, Bytes(1000, 'z')), Error);
  EXPECT_THROW(repository->flush(), Error);
}

}  // namespace obkeep::repo
