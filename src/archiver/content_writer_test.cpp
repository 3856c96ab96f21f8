// The content writer reproduces bytes exactly, keeps zero pages as holes, and writes large
// files through O_DIRECT with an unaligned tail.
#include "archiver/content_writer.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <random>
#include <vector>

namespace obkeep::archiver {

namespace fs = std::filesystem;

class ContentWriterTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/obkeep-content-writer.XXXXXX";
    root_ = mkdtemp(pattern);
  }
  void TearDown() override { fs::remove_all(root_); }

  // Writes `content` in pieces of the given sizes (cycled) and returns the file's bytes.
  std::vector<uint8_t> round_trip(const std::vector<uint8_t>& content, const std::vector<size_t>& pieces,
                                  struct stat* info = nullptr) {
    fs::path path = root_ / "file";
    fs::remove(path);
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
    EXPECT_GE(fd, 0);
    ContentWriter writer(fd, path.string(), GetParam());
    size_t at = 0;
    for (size_t i = 0; at < content.size(); ++i) {
      size_t n = std::min(pieces[i % pieces.size()], content.size() - at);
      std::memcpy(writer.reserve(n), content.data() + at, n);
      writer.commit(n);
      at += n;
    }
    EXPECT_EQ(writer.size(), content.size());
    writer.finish();
    ::close(fd);
    if (info) ::stat(path.c_str(), info);
    std::vector<uint8_t> back(fs::file_size(path));
    fd = ::open(path.c_str(), O_RDONLY);
    EXPECT_EQ(::read(fd, back.data(), back.size()), static_cast<ssize_t>(back.size()));
    ::close(fd);
    return back;
  }

  fs::path root_;
};

TEST_P(ContentWriterTest, BytesAreExactAcrossBufferBoundaries) {
  std::mt19937 random(7);
  std::vector<uint8_t> content(19 * 1024 * 1024 + 123);
  for (auto& byte : content) byte = static_cast<uint8_t>(random());
  EXPECT_EQ(round_trip(content, {4 * 1024 * 1024, 1000003, 65536, 1}), content);
  EXPECT_EQ(round_trip(content, {4 * 1024 * 1024}), content);
}

TEST_P(ContentWriterTest, ZeroPagesBecomeHolesAndTailsSurvive) {
  std::vector<uint8_t> content(12 * 1024 * 1024 + 4097, 0);
  std::memset(content.data(), 'a', 5000);                         // data, then a run of zero pages
  std::memset(content.data() + 9 * 1024 * 1024, 'b', 3);          // a lone non-zero page
  std::memset(content.data() + content.size() - 2, 'c', 2);       // the unaligned tail
  struct stat info;
  EXPECT_EQ(round_trip(content, {1024 * 1024 + 17}, &info), content);
  EXPECT_LT(static_cast<uint64_t>(info.st_blocks) * 512, 1024u * 1024) << "zero pages were written, not left as holes";
}

TEST_P(ContentWriterTest, EmptyAndSmallFiles) {
  EXPECT_EQ(round_trip({}, {1}), std::vector<uint8_t>{});
  std::vector<uint8_t> small(10, 'x');
  EXPECT_EQ(round_trip(small, {3}), small);
  std::vector<uint8_t> zeros(8192, 0);
  EXPECT_EQ(round_trip(zeros, {8192}), zeros);
}

INSTANTIATE_TEST_SUITE_P(DirectAndBuffered, ContentWriterTest, ::testing::Bool());

}  // namespace obkeep::archiver
