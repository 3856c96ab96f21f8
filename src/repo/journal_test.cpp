// The journal: entries round-trip sealed, read back oldest first, only new ones fetched
// with a cache, newer formats skipped, damage named.
#include "repo/journal.hpp"

#include <gtest/gtest.h>

#include "repo/memory_repository_for_tests.hpp"
#include "repo/repository.hpp"
#include "util/error.hpp"

namespace obkeep::repo {

namespace {

JournalEntry entry(const std::string& kind, int64_t time_ns, std::optional<std::string> site) {
  JournalEntry e;
  e.kind = kind;
  e.time_ns = time_ns;
  e.site = std::move(site);
  e.hostname = "api-1";
  e.details = {{"measured_rto_s", 12.5}};
  return e;
}

}  // namespace

TEST(Journal, EntriesComeBackOldestFirst) {
  auto memory = make_memory_repository();
  Repository& repository = *memory.repository;
  append_journal(repository, entry("drill", 3000, std::string("dr1")));
  append_journal(repository, entry("verify", 1000, std::nullopt));
  append_journal(repository, entry("drill", 2000, std::nullopt));
  auto journal = read_journal(repository);
  ASSERT_EQ(journal.size(), 3u);
  EXPECT_EQ(journal[0].kind, "verify");
  EXPECT_EQ(journal[1].time_ns, 2000);
  EXPECT_EQ(journal[2].site, std::optional<std::string>("dr1"));
  EXPECT_EQ(journal[2].hostname, "api-1");
  EXPECT_EQ(journal[2].details["measured_rto_s"], 12.5);
  EXPECT_EQ(newest_entry(journal, "drill", std::nullopt)->time_ns, 2000);
  EXPECT_EQ(newest_entry(journal, "drill", std::string("dr1"))->time_ns, 3000);
  EXPECT_EQ(newest_entry(journal, "prune", std::nullopt), nullptr);
}

TEST(Journal, ACacheFetchesOnlyNewEntries) {
  auto memory = make_memory_repository();
  Repository& repository = *memory.repository;
  append_journal(repository, entry("prune", 1000, std::nullopt));
  std::map<std::string, JournalEntry> cache;
  EXPECT_EQ(read_journal(repository, &cache).size(), 1u);
  // Damage the entry the cache holds: a cached read does not fetch it again.
  for (auto& [key, bytes] : memory.backend->objects())
    if (key.first == storage::FileType::journal) bytes = Bytes{0x67, 0x61, 0x72, 0x62};  // "garb": no longer opens
  append_journal(repository, entry("prune", 2000, std::nullopt));
  auto journal = read_journal(repository, &cache);
  ASSERT_EQ(journal.size(), 2u);
  EXPECT_EQ(journal[1].time_ns, 2000);
  // Without the cache the damage is an error naming the entry.
  try {
    read_journal(repository);
    FAIL() << "a damaged entry was read";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("journal"), std::string::npos) << error.what();
  }
}

TEST(Journal, EntriesOfANewerFormatAreSkipped) {
  auto memory = make_memory_repository();
  Repository& repository = *memory.repository;
  repository.save_object(storage::FileType::journal, as_bytes(std::string(R"({"version": 2, "kind": "drill"})")));
  append_journal(repository, entry("verify", 1000, std::nullopt));
  auto journal = read_journal(repository);
  ASSERT_EQ(journal.size(), 1u);
  EXPECT_EQ(journal[0].kind, "verify");
}

}  // namespace obkeep::repo
