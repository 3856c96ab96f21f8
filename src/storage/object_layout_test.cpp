// Tests for the repository folder layout.
#include "storage/object_layout.hpp"

#include <gtest/gtest.h>

#include "util/error.hpp"

namespace obkeep::storage {
namespace {

const std::string id(64, 'a');

TEST(ObjectLayout, PacksLiveInFoldersNamedByTheirFirstTwoHexDigits) {
  EXPECT_EQ(object_path({FileType::pack, "ab" + std::string(62, '0')}), "data/ab/ab" + std::string(62, '0'));
  EXPECT_EQ(object_path({FileType::snapshot, id}), "snapshots/" + id);
  EXPECT_EQ(object_path({FileType::config, "config"}), "config");
}

TEST(ObjectLayout, RejectsNamesThatAreNotIds) {
  EXPECT_THROW(object_path({FileType::key, "../config"}), Error);
  EXPECT_THROW(object_path({FileType::key, std::string(64, 'A')}), Error);
  EXPECT_FALSE(valid_object_name({FileType::lock, ".tmp-0011223344556677"}));
}

TEST(ObjectLayout, CopyRecordsJournalAndArchiveEntriesHaveTheirFolders) {
  EXPECT_EQ(object_path({FileType::copy_record, std::string(64, 'c')}), "copies/" + std::string(64, 'c'));
  EXPECT_EQ(object_path({FileType::journal, std::string(64, 'a')}), "journal/" + std::string(64, 'a'));
  EXPECT_EQ(object_path({FileType::archive, std::string(64, 'b')}), "archive/" + std::string(64, 'b'));
}

TEST(ObjectLayout, NewRepositoriesHaveEveryPackFolder) {
  auto folders = repository_folders();
  EXPECT_EQ(folders.size(), 8u + 256u);
  EXPECT_EQ(folders[4], "copies");
  EXPECT_EQ(folders[5], "journal");
  EXPECT_EQ(folders[6], "archive");
  EXPECT_EQ(folders[8], "data/00");
  EXPECT_EQ(folders.back(), "data/ff");
}

}  // namespace
}  // namespace obkeep::storage
