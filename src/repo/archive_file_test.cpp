// Archive entries and files: names are keyed and stable, entries round-trip sealed and bound
// to their names, same content is found again and other content refused, a file reads back
// from its entry without the index and, after prune moved its blobs, with it; prune keeps
// archived blobs; check names a damaged entry.
#include "repo/archive_file.hpp"

#include <algorithm>

#include <gtest/gtest.h>

#include "repo/archive_entry.hpp"
#include "repo/check.hpp"
#include "repo/memory_repository_for_tests.hpp"
#include "repo/prune.hpp"
#include "repo/repository.hpp"
#include "util/error.hpp"

namespace obkeep::repo {

namespace {

const ArchiveKey first{"wal", "main", "000000010000000000000001"};
const ArchiveKey second{"wal", "main", "000000010000000000000002"};

void archive(Repository& repository, const ArchiveKey& key, const Bytes& data) {
  ArchiveWriter writer(repository);
  ASSERT_EQ(writer.add(key, data), ArchiveWriter::Added::stored);
  writer.commit();
}

// A fresh process's view: another Repository (nothing loaded) over a copy of the objects.
std::unique_ptr<Repository> reopen(storage::Backend& backend) {
  auto copy = std::make_unique<storage::MemoryBackend>();
  copy->objects() = dynamic_cast<storage::MemoryBackend&>(backend).objects();
  return Repository::open(std::move(copy), "pw");
}

}  // namespace

TEST(ArchiveEntry, NamesAreKeyedAndDifferPerKindStanzaAndFile) {
  auto one = make_memory_repository(), other = make_memory_repository();
  Id name = archive_entry_name(*one.repository, first);
  EXPECT_EQ(name, archive_entry_name(*one.repository, first));
  EXPECT_NE(name, archive_entry_name(*other.repository, first));
  EXPECT_NE(name, archive_entry_name(*one.repository, second));
  EXPECT_NE(name, archive_entry_name(*one.repository, {"wal", "other", first.file}));
  EXPECT_NE(name, archive_entry_name(*one.repository, {"binlog", "main", first.file}));
}

TEST(ArchiveFile, StoredFileReadsBackWithoutTheIndex) {
  auto memory = make_memory_repository();
  Bytes data = pseudo_random(3 * 1024 * 1024, 7);  // several dump chunks
  archive(*memory.repository, first, data);
  auto reader = reopen(*memory.backend);
  auto entry = load_archive_entry(*reader, first);
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->key.file, first.file);
  EXPECT_EQ(entry->size, data.size());
  EXPECT_GT(entry->blobs.size(), 1u);
  EXPECT_EQ(read_archived_file(*reader, *entry), data);
  EXPECT_TRUE(reader->loaded_index_files().empty());  // the entry said where every blob is
  EXPECT_FALSE(load_archive_entry(*reader, second));
}

TEST(ArchiveFile, SameContentIsFoundAgainAndOtherContentRefused) {
  auto memory = make_memory_repository();
  archive(*memory.repository, first, pseudo_random(1000, 1));
  auto again = reopen(*memory.backend);
  ArchiveWriter writer(*again);
  EXPECT_EQ(writer.add(first, pseudo_random(1000, 1)), ArchiveWriter::Added::already_archived);
  try {
    writer.add(first, pseudo_random(1000, 2));
    FAIL() << "other content was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("already archived with different content"), std::string::npos) << e.what();
  }
  // Within one batch too.
  EXPECT_EQ(writer.add(second, pseudo_random(10, 3)), ArchiveWriter::Added::stored);
  EXPECT_THROW(writer.add(second, pseudo_random(10, 4)), Error);
}

TEST(ArchiveFile, AnEntryMovedUnderAnotherNameFailsToOpen) {
  auto memory = make_memory_repository();
  archive(*memory.repository, first, pseudo_random(100, 1));
  auto& objects = memory.backend->objects();
  Bytes sealed = objects.at({storage::FileType::archive, archive_entry_name(*memory.repository, first).hex()});
  objects[{storage::FileType::archive, archive_entry_name(*memory.repository, second).hex()}] = sealed;
  EXPECT_THROW(load_archive_entry(*memory.repository, second), IntegrityError);
  auto check = check_repository(*reopen(*memory.backend), {});
  ASSERT_EQ(check.errors.size(), 1u);
  EXPECT_NE(check.errors[0].find("archive entry"), std::string::npos) << check.errors[0];
  EXPECT_EQ(check.archive_entries, 1u);
}

TEST(ArchiveFile, PruneKeepsArchivedBlobsAndAReaderFollowsThemWhenMoved) {
  auto memory = make_memory_repository();
  Repository& repository = *memory.repository;
  // One pack holds both files and a blob nothing uses, so prune repacks it.
  Bytes kept = pseudo_random(200 * 1024, 1), unused = pseudo_random(2 * 1024 * 1024, 9);
  ArchiveWriter writer(repository);
  writer.add(first, kept);
  repository.save_blob(BlobType::data, unused);
  writer.commit();
  auto pruner = reopen(*memory.backend);
  pruner->load_index();
  PruneOptions options;
  options.repack_threshold = 0;
  PruneResult result = prune(*pruner, options);
  EXPECT_EQ(result.packs_repacked, 1u);
  auto reader = reopen(pruner->backend());
  auto entry = load_archive_entry(*reader, first);
  ASSERT_TRUE(entry);
  EXPECT_EQ(result.blobs_used, entry->blobs.size());
  // The file's pieces may have gone into several packs (saved in parallel); the unused blob
  // shares one of them, which prune repacked: that pack is gone, the index says where its
  // blobs went.
  EXPECT_TRUE(std::any_of(entry->blobs.begin(), entry->blobs.end(), [&](const ArchivedBlob& blob) {
    return !reader->backend().stat({storage::FileType::pack, blob.stored.pack.hex()});
  }));
  EXPECT_EQ(read_archived_file(*reader, *entry), kept);
  EXPECT_FALSE(reader->loaded_index_files().empty());
  EXPECT_TRUE(check_repository(*reopen(pruner->backend()), {}).errors.empty());
}

}  // namespace obkeep::repo
