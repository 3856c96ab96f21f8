// The archive catalog: prune writes it once enough entries lack it; then reading the whole
// archive is a few reads, not one an entry, and gives exactly what the entries say; entries
// added later are read themselves; an entry forget removes leaves the catalog first, so a
// file archived again under its name is read as it is now; a damaged catalog is passed over
// and rewritten; check names a catalog that disagrees; copies do not carry it.
#include "repo/archive_catalog.hpp"

#include <gtest/gtest.h>

#include "repo/archive_file.hpp"
#include "repo/check.hpp"
#include "repo/memory_repository_for_tests.hpp"
#include "repo/prune.hpp"
#include "repo/snapshot_copy.hpp"

namespace obkeep::repo {

namespace {

// Counts the archive entries loaded (each a request at a far site).
class CountingBackend : public storage::MemoryBackend {
 public:
  CountingBackend() = default;
  CountingBackend(const CountingBackend& other) : MemoryBackend(other) {}
  std::atomic<int> archive_loads{0};
  Bytes load(const storage::Handle& handle, uint64_t offset, uint64_t length) override {
    if (handle.type == storage::FileType::archive) ++archive_loads;
    return MemoryBackend::load(handle, offset, length);
  }
};

struct Archive {
  CountingBackend* store;
  std::unique_ptr<Repository> repository;

  // Another process's view of the same objects, its counts from zero.
  std::unique_ptr<Repository> reopen(CountingBackend** counted) const {
    auto copy = std::make_unique<CountingBackend>(*store);
    *counted = copy.get();
    return Repository::open(std::move(copy), "pw");
  }
};

Archive make_archive() {
  auto owned = std::make_unique<CountingBackend>();
  CountingBackend* store = owned.get();
  Repository::init(*owned, "pw", cheap_init_options());
  return {store, Repository::open(std::move(owned), "pw")};
}

ArchiveKey wal(int segment) {
  char file[25];
  std::snprintf(file, sizeof file, "0000000100000000000%05X", segment);
  return {"wal", "main", file};
}

void archive_files(Repository& repository, int first, int count, uint32_t seed = 1) {
  ArchiveWriter writer(repository);
  for (int i = first; i < first + count; ++i)
    ASSERT_EQ(writer.add(wal(i), pseudo_random(2000, seed + static_cast<uint32_t>(i))), ArchiveWriter::Added::stored);
  writer.commit();
}

std::map<Id, std::string> one_by_one(Repository& repository) {
  std::map<Id, std::string> out;
  for (const ArchiveEntry& entry : load_archive_entries(repository, list_archive_entries(repository)))
    out[entry.name] = entry.to_json().dump();
  return out;
}

std::map<Id, std::string> as_map(const std::vector<ArchiveEntry>& entries) {
  std::map<Id, std::string> out;
  for (const ArchiveEntry& entry : entries) out[entry.name] = entry.to_json().dump();
  return out;
}

const Id& catalog_name(Repository& repository) {
  static Id name;
  name = archive_entry_name(repository, archive_catalog_key());
  return name;
}

}  // namespace

TEST(ArchiveCatalog, PruneWritesItAndTheWholeArchiveThenTakesAFewReads) {
  Archive archive = make_archive();
  archive_files(*archive.repository, 0, 300);
  // Fewer entries than a batch lack it: nothing written.
  archive.repository->load_index();
  ArchiveRead few = read_archive(*archive.repository, list_archive_entries(*archive.repository));
  EXPECT_FALSE(update_archive_catalog(*archive.repository, few, {}, 301));
  EXPECT_FALSE(few.catalog);

  prune(*archive.repository, {});
  CountingBackend* counted = nullptr;
  auto reader = archive.reopen(&counted);
  std::vector<Id> names = list_archive_entries(*reader);
  ASSERT_EQ(names.size(), 301u);  // the catalog is an entry too
  ArchiveRead read = read_archive(*reader, names);
  ASSERT_TRUE(read.catalog);
  EXPECT_EQ(read.catalog->key.kind, "catalog");
  EXPECT_EQ(read.catalogued.size(), 300u);
  EXPECT_EQ(read.catalog_size, 300u);
  EXPECT_LE(counted->archive_loads.load(), 2);  // the catalog's own entry (300 before)
  EXPECT_EQ(as_map(read.entries), one_by_one(*reader));

  // Nothing new: the next prune leaves it, and check finds it in agreement.
  ArchiveRead again = read_archive(*archive.repository, list_archive_entries(*archive.repository));
  EXPECT_FALSE(update_archive_catalog(*archive.repository, again));
  prune(*archive.repository, {});
  CheckResult checked = check_repository(*archive.reopen(&counted), {});
  EXPECT_TRUE(checked.errors.empty()) << checked.errors.front();
  EXPECT_EQ(checked.archive_entries, 301u);
}

TEST(ArchiveCatalog, EntriesArchivedAfterItAreReadThemselves) {
  Archive archive = make_archive();
  archive_files(*archive.repository, 0, 300);
  prune(*archive.repository, {});
  archive_files(*archive.repository, 300, 10);
  CountingBackend* counted = nullptr;
  auto reader = archive.reopen(&counted);
  ArchiveRead read = read_archive(*reader, list_archive_entries(*reader));
  EXPECT_EQ(read.entries.size(), 311u);
  EXPECT_EQ(read.catalogued.size(), 300u);
  EXPECT_LE(counted->archive_loads.load(), 12);
  EXPECT_EQ(as_map(read.entries), one_by_one(*reader));
}

TEST(ArchiveCatalog, ARemovedEntryLeavesItFirstSoAFileArchivedAgainReadsAsItIsNow) {
  Archive archive = make_archive();
  Repository& repository = *archive.repository;
  archive_files(repository, 0, 300);
  prune(repository, {});
  ArchiveRead read = read_archive(repository, list_archive_entries(repository));
  Id leaving = archive_entry_name(repository, wal(5));
  ASSERT_TRUE(read.catalogued.count(leaving));
  // As forget does: the catalog first, then the entry.
  std::optional<ArchiveEntry> rewritten = update_archive_catalog(repository, read, {leaving});
  ASSERT_TRUE(rewritten);
  repository.backend().remove({storage::FileType::archive, leaving.hex()});
  // The same file name, other content (a cluster made again).
  ArchiveWriter writer(repository);
  Bytes now = pseudo_random(3000, 99);
  ASSERT_EQ(writer.add(wal(5), now), ArchiveWriter::Added::stored);
  writer.commit();

  ArchiveRead after = read_archive(repository, list_archive_entries(repository));
  EXPECT_FALSE(after.catalogued.count(leaving));
  EXPECT_EQ(after.catalog_size, 299u);
  EXPECT_EQ(as_map(after.entries), one_by_one(repository));
  for (const ArchiveEntry& entry : after.entries)
    if (entry.name == leaving) {
      EXPECT_EQ(read_archived_file(repository, entry), now);
    }
  prune(repository, {});
  CountingBackend* counted = nullptr;
  CheckResult checked = check_repository(*archive.reopen(&counted), {});
  EXPECT_TRUE(checked.errors.empty()) << checked.errors.front();
}

TEST(ArchiveCatalog, ADamagedCatalogIsPassedOverAndRewrittenBeforeAnyRemoval) {
  Archive archive = make_archive();
  Repository& repository = *archive.repository;
  archive_files(repository, 0, 300);
  prune(repository, {});
  // Its file's packs lost: the entries are read themselves.
  std::optional<ArchiveEntry> catalog = load_archive_entry(repository, archive_catalog_key());
  ASSERT_TRUE(catalog);
  for (const ArchivedBlob& blob : catalog->blobs) archive.store->objects().erase({storage::FileType::pack, blob.stored.pack.hex()});
  CountingBackend* counted = nullptr;
  auto reader = archive.reopen(&counted);
  ArchiveRead read = read_archive(*reader, list_archive_entries(*reader));
  EXPECT_TRUE(read.catalog_unread);
  EXPECT_TRUE(read.catalogued.empty());
  EXPECT_EQ(read.entries.size(), 301u);
  EXPECT_GE(counted->archive_loads.load(), 300);
  // It may hold an entry that is leaving: it is written again first.
  EXPECT_TRUE(update_archive_catalog(*reader, read, {archive_entry_name(*reader, wal(7))}));
}

TEST(ArchiveCatalog, CheckNamesACatalogThatDisagreesWithTheEntries) {
  Archive archive = make_archive();
  Repository& repository = *archive.repository;
  archive_files(repository, 0, 70);
  // A catalog whose copy of one entry says another size and time than the entry.
  std::vector<ArchiveEntry> entries = load_archive_entries(repository, list_archive_entries(repository));
  ArchiveEntry& altered = entries.front();
  altered.time_ns += 1000000000;
  repository.load_index();
  ArchiveWriter writer(repository);
  writer.replace(archive_catalog_key(), encode_archive_catalog(entries));
  writer.commit();
  CheckResult checked = check_repository(repository, {});
  ASSERT_EQ(checked.errors.size(), 1u);
  EXPECT_NE(checked.errors.front().find("archive catalog"), std::string::npos) << checked.errors.front();
  EXPECT_NE(checked.errors.front().find(altered.key.file), std::string::npos) << checked.errors.front();
}

TEST(ArchiveCatalog, ALineUnderAnotherFilesNameIsRefused) {
  Archive archive = make_archive();
  Repository& repository = *archive.repository;
  archive_files(repository, 0, 2);
  std::vector<ArchiveEntry> entries = load_archive_entries(repository, list_archive_entries(repository));
  std::swap(entries[0].name, entries[1].name);
  Bytes file = encode_archive_catalog(entries);
  EXPECT_THROW(decode_archive_catalog(repository, file), IntegrityError);
  file.resize(file.size() - 1);  // cut short
  EXPECT_THROW(decode_archive_catalog(repository, file), IntegrityError);
}

TEST(ArchiveCatalog, ACopyUsesTheSourcesCatalogAndDoesNotCarryIt) {
  Archive archive = make_archive();
  archive_files(*archive.repository, 0, 300);
  prune(*archive.repository, {});
  CountingBackend* counted = nullptr;
  auto source = archive.reopen(&counted);
  source->load_index();
  auto destination_store = std::make_unique<storage::MemoryBackend>();
  Repository::init(*destination_store, "pw", cheap_init_options());
  auto destination = Repository::open(std::move(destination_store), "pw");
  SnapshotCopier copier(*source, *destination, ready_copy_destination(*destination, true));
  EXPECT_EQ(copier.copy_archive_entries(), 300u);
  EXPECT_LE(counted->archive_loads.load(), 2);
  std::vector<Id> copied = list_archive_entries(*destination);
  EXPECT_EQ(copied.size(), 300u);
  EXPECT_FALSE(std::binary_search(copied.begin(), copied.end(), catalog_name(*destination)));
  CheckResult checked = check_repository(*destination, {});
  EXPECT_TRUE(checked.errors.empty()) << checked.errors.front();
}

TEST(ArchiveCatalog, ARotationOfChecksReadsEachEntryOnceAndTheCatalogForTheRest) {
  Archive archive = make_archive();
  archive_files(*archive.repository, 0, 300);
  prune(*archive.repository, {});
  int loads = 0;
  for (uint32_t part = 1; part <= 4; ++part) {
    CountingBackend* counted = nullptr;
    auto reader = archive.reopen(&counted);
    CheckOptions options;
    options.read_part = part;
    options.read_parts = 4;
    CheckResult checked = check_repository(*reader, options);
    EXPECT_TRUE(checked.errors.empty()) << checked.errors.front();
    EXPECT_EQ(checked.archive_entries, 301u);  // every entry counted, for the archive's continuity
    EXPECT_EQ(checked.archive.size(), 301u);
    EXPECT_LT(counted->archive_loads.load(), 150);  // about a quarter, and the catalog's entry
    loads += counted->archive_loads.load();
  }
  // Every entry read itself once in the rotation; the catalog's entry each time (twice).
  EXPECT_EQ(loads, 300 + 4 * 2);
}

}  // namespace obkeep::repo
