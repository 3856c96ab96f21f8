// The binlog archive as archive entries: pieces found by name across rotations and epochs,
// a replay's chain, how far a backup rolls forward, the archive order check reads, and
// lookups that take as long with 100,000 pieces as with 100 (issue 13).
#include "ops/binlog_entries.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>

#include "repo/archive_file.hpp"
#include "repo/lock.hpp"
#include "repo/memory_repository_for_tests.hpp"
#include "storage/local/local_backend.hpp"
#include "util/error.hpp"

namespace obkeep::ops {

namespace {

namespace fs = std::filesystem;

constexpr int64_t second = 1000000000;
const std::string database = "mysql://db/am";

BinlogPiece make_piece(uint64_t epoch, const std::string& file, uint64_t index, uint64_t start, uint64_t end,
                       int64_t point_s, const std::string& next_file = "", const std::string& gap = "") {
  BinlogPiece piece;
  piece.epoch = epoch;
  piece.index = index;
  piece.file = file;
  piece.start = start;
  piece.end = end;
  piece.next_file = next_file;
  piece.gap = gap;
  piece.recovery_point_ns = point_s * second;
  piece.database_name = "WSO2AM_DB";
  return piece;
}

Bytes content_of(const BinlogPiece& piece) {
  Bytes data(piece.end - piece.start);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>((piece.start + i) * 31 + piece.file.size());
  return data;
}

// Epoch 0: binlog.000001 in two pieces to its rotation, binlog.000002 in two; then the
// server lost binlog.000003: epoch 1 begins at binlog.000004.
void write_archive(repo::Repository& repository) {
  BinlogEntries archive(repository, database);
  archive.start_epoch({0, "binlog.000001", 0, "", "", 90 * second, "WSO2AM_DB", false});
  for (const BinlogPiece& piece :
       {make_piece(0, "binlog.000001", 0, 0, 500, 100), make_piece(0, "binlog.000001", 1, 500, 900, 105, "binlog.000002"),
        make_piece(0, "binlog.000002", 0, 0, 300, 110), make_piece(0, "binlog.000002", 1, 300, 800, 115)})
    archive.save_piece(piece, content_of(piece));
  std::string gap = "binlog binlog.000003 was purged from the server before it was archived past offset 0";
  archive.start_epoch({1, "binlog.000004", 0, gap, "binlog.000003:0", 130 * second, "WSO2AM_DB", false});
  BinlogPiece after = make_piece(1, "binlog.000004", 0, 0, 400, 140, "", gap);
  archive.save_piece(after, content_of(after));
}

TEST(BinlogEntries, AChainFollowsRotationsAndStopsWhereAskedOrAtTheEpochsEnd) {
  auto memory = repo::make_memory_repository();
  write_archive(*memory.repository);
  BinlogEntries archive(*memory.repository, database);
  std::vector<BinlogEpoch> epochs = archive.epochs();
  ASSERT_EQ(epochs.size(), 2u);
  EXPECT_EQ(epochs[1].first_file, "binlog.000004");
  EXPECT_NE(epochs[1].gap.find("purged"), std::string::npos);
  EXPECT_EQ(archive.piece_count(0, "binlog.000001"), 2u);
  EXPECT_EQ(archive.piece_count(0, "binlog.000004"), 0u);
  ASSERT_TRUE(archive.last_piece(0, "binlog.000002"));
  EXPECT_EQ(archive.last_piece(0, "binlog.000002")->end, 800u);

  auto until = [](int64_t s) { return [s](const BinlogPiece& piece) { return piece.recovery_point_ns >= s * second; }; };
  std::vector<BinlogPiece> chain = archive.chain(0, "binlog.000001", until(110));
  ASSERT_EQ(chain.size(), 3u);
  EXPECT_EQ(chain[2].file, "binlog.000002");
  EXPECT_EQ(archive.chain(0, "binlog.000001", until(999)).size(), 4u);  // the epoch's end
  EXPECT_EQ(read_binlog_piece(*memory.repository, chain[1]), content_of(chain[1]));

  EXPECT_EQ(archive.reachable_from(0, "binlog.000001", 700), 115 * second);
  EXPECT_EQ(archive.reachable_from(0, "binlog.000002", 900), std::nullopt);  // past what is archived
  EXPECT_EQ(archive.reachable_from(1, "binlog.000004", 4), 140 * second);
  EXPECT_EQ(archive.epoch_holding(epochs, "binlog.000002", 120 * second), 0u);
  EXPECT_EQ(archive.epoch_holding(epochs, "binlog.000004", 135 * second), 1u);
  EXPECT_EQ(archive.epoch_holding(epochs, "binlog.000009", 135 * second), std::nullopt);
}

TEST(BinlogEntries, CheckReadsTheArchiveInOrderAndFindsTheGapAndAMissingPiece) {
  auto memory = repo::make_memory_repository();
  write_archive(*memory.repository);
  auto entries = [&] { return repo::load_archive_entries(*memory.repository, repo::list_archive_entries(*memory.repository)); };
  auto archives = binlog_archives(entries());
  ASSERT_EQ(archives.size(), 1u);
  const BinlogArchive& archive = archives.at(database);
  ASSERT_EQ(archive.pieces().size(), 5u);
  EXPECT_EQ(archive.pieces()[1].next_file, "binlog.000002");
  std::vector<BinlogGap> gaps = archive.gaps();
  ASSERT_EQ(gaps.size(), 1u);
  EXPECT_EQ(gaps[0].before, "binlog.000004:0");
  // A replay from binlog.000001 stops at the gap, naming the newest reachable point.
  try {
    archive.pieces_for("binlog.000001", 200, BinlogTarget{135 * second, std::nullopt}, "WSO2AM_DB");
    FAIL() << "a replay across the gap was planned";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("has a gap after"), std::string::npos) << e.what();
  }
  // A piece removed from the middle is a break check reports.
  memory.backend->remove({storage::FileType::archive,
                          repo::archive_entry_name(*memory.repository, binlog_piece_key(database, 0, "binlog.000002", 0)).hex()});
  EXPECT_EQ(binlog_archives(entries()).at(database).gaps().size(), 2u);
}

TEST(BinlogEntries, AnEntryWhoseNameAndContentDisagreeIsRefused) {
  auto memory = repo::make_memory_repository();
  BinlogEntries archive(*memory.repository, database);
  archive.start_epoch({0, "binlog.000001", 0, "", "", 90 * second, "WSO2AM_DB", false});
  BinlogPiece piece = make_piece(0, "binlog.000001", 0, 0, 10, 100);
  repo::ArchiveWriter writer(*memory.repository);
  // Stored under the name of another file's piece.
  writer.add(binlog_piece_key(database, 0, "binlog.000007", 0), content_of(piece), binlog_piece_summary(piece));
  writer.commit();
  EXPECT_THROW(archive.piece(0, "binlog.000007", 0), IntegrityError);
}

// Issue 13: "binlog lookups take the same time with 100 archived files or 500,000". What an
// archiver's start, a status and a replay's plan do — the epochs, the last piece of the
// newest file, how far a backup in the newest file reaches, that file's chain — timed on an
// archive of 100 pieces and one of 100,000 (100 a file, as a binlog file of the archive
// holds in a few minutes of writes), in turn.
TEST(BinlogEntries, LookupsTakeAsLongWith100000PiecesAsWith100) {
  constexpr int rounds = 11;
#ifdef OBKEEP_SANITIZED
  constexpr uint64_t large_pieces = 10'000;
#else
  constexpr uint64_t large_pieces = 100'000;
#endif
  constexpr uint64_t per_file = 100;
  std::string base = fs::is_directory("/dev/shm") ? "/dev/shm" : "/tmp";
  std::string pattern = base + "/obkeep-binlog-entries-test.XXXXXX";
  fs::path root = mkdtemp(pattern.data());
  struct Archive {
    fs::path repository;
    uint64_t pieces = 0;
    std::string newest_file;
    std::vector<double> times;
  };
  Archive small{root / "small", 100, {}, {}}, large{root / "large", large_pieces, {}, {}};
  auto file_name = [](uint64_t number) {
    char name[32];
    std::snprintf(name, sizeof name, "binlog.%06llu", static_cast<unsigned long long>(number + 1));
    return std::string(name);
  };
  auto open = [](const fs::path& path) { return repo::Repository::open(std::make_unique<storage::LocalBackend>(path), "pw"); };
  for (Archive* archive : {&small, &large}) {
    storage::LocalBackend backend(archive->repository);
    repo::Repository::init(backend, "pw", repo::cheap_init_options());
    auto repository = open(archive->repository);
    repo::RepositoryLock lock(*repository, false);
    BinlogEntries entries(*repository, database);
    entries.start_epoch({0, file_name(0), 0, "", "", second, "WSO2AM_DB", false});
    // Through the same writer as the archiver, many to a commit so that building is quick.
    repo::ArchiveWriter writer(*repository);
    for (uint64_t n = 0; n < archive->pieces; ++n) {
      uint64_t file = n / per_file, index = n % per_file;
      bool last_of_file = index == per_file - 1 && n + 1 < archive->pieces;
      BinlogPiece piece = make_piece(0, file_name(file), index, index * 16, index * 16 + 16, static_cast<int64_t>(n + 2),
                                     last_of_file ? file_name(file + 1) : "");
      writer.add(binlog_piece_key(database, 0, piece.file, index), content_of(piece), binlog_piece_summary(piece));
      if ((n + 1) % 5000 == 0) writer.commit();
      archive->newest_file = piece.file;
    }
    writer.commit();
  }
  for (int round = 0; round < rounds; ++round) {
    for (Archive* archive : {&small, &large}) {
      auto begin = std::chrono::steady_clock::now();
      auto repository = open(archive->repository);  // as a command opens it
      BinlogEntries entries(*repository, database);
      std::vector<BinlogEpoch> epochs = entries.epochs();
      ASSERT_EQ(epochs.size(), 1u);
      std::optional<BinlogPiece> last = entries.last_piece(0, archive->newest_file);
      ASSERT_TRUE(last);
      EXPECT_EQ(entries.reachable_from(0, archive->newest_file, 32), static_cast<int64_t>(archive->pieces + 1) * second);
      // A replay from early in the newest file up to a point a few pieces on.
      int64_t until = last->recovery_point_ns - 90 * second;
      std::vector<BinlogPiece> chain =
          entries.chain(0, archive->newest_file, [&](const BinlogPiece& piece) { return piece.recovery_point_ns >= until; });
      EXPECT_FALSE(chain.empty());
      archive->times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count());
    }
  }
  auto median = [](std::vector<double> times) {
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
  };
  for (Archive* archive : {&small, &large})
    std::cout << archive->pieces << " archived pieces: lookups " << median(archive->times) * 1000 << " ms (median of "
              << rounds << ")\n";
  EXPECT_LT(median(large.times), 3 * median(small.times));
  fs::remove_all(root);
}

}  // namespace

}  // namespace obkeep::ops
