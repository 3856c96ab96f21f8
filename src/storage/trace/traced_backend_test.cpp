// The backend trace: one line per call, with the object, the bytes moved and how it ended,
// on the error path too; with OBKEEP_TRACE_BACKEND unset nothing is wrapped.
#include "storage/trace/traced_backend.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "storage/mem/memory_backend.hpp"
#include "util/error.hpp"

namespace obkeep::storage {
namespace {

std::vector<std::vector<std::string>> trace_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::vector<std::string>> lines;
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::vector<std::string> split;
    for (std::string field; fields >> field;) split.push_back(field);
    lines.push_back(split);
  }
  return lines;
}

TEST(TracedBackend, WritesALinePerCallWithItsObjectBytesAndResult) {
  std::string path = (std::filesystem::temp_directory_path() / ("obkeep-trace-" + std::to_string(::getpid()))).string();
  std::filesystem::remove(path);
  ::setenv("OBKEEP_TRACE_BACKEND", path.c_str(), 1);
  std::unique_ptr<Backend> backend = with_trace(std::make_unique<MemoryBackend>());
  ::unsetenv("OBKEEP_TRACE_BACKEND");
  Handle pack{FileType::pack, std::string(64, 'a')};
  Bytes data(1000, 7);
  backend->save(pack, data);
  EXPECT_EQ(backend->load(pack, 100, 200).size(), 200u);
  EXPECT_FALSE(backend->stat({FileType::copy_record, std::string(64, 'b')}));
  backend->list(FileType::pack, [](const std::string&, uint64_t) {});
  EXPECT_THROW(backend->load({FileType::index, std::string(64, 'c')}, 0, 0), Error);
  Bytes into(300);
  backend->read_into(pack, 10, into);
  EXPECT_FALSE(backend->load_if_present({FileType::index, std::string(64, 'c')}));
  backend.reset();  // closes the trace

  auto lines = trace_lines(path);
  std::filesystem::remove(path);
  ASSERT_EQ(lines.size(), 7u);
  for (const auto& line : lines) ASSERT_EQ(line.size(), 10u) << "ten fields a line";
  EXPECT_EQ(lines[0][3], "save");
  EXPECT_EQ(lines[0][4], "pack");
  EXPECT_EQ(lines[0][5], std::string(12, 'a'));
  EXPECT_EQ(lines[0][8], "1000");
  EXPECT_EQ(lines[0][9], "ok");
  EXPECT_EQ(lines[1][3], "load");
  EXPECT_EQ(lines[1][6], "100");
  EXPECT_EQ(lines[1][7], "200");
  EXPECT_EQ(lines[1][8], "200");
  EXPECT_EQ(lines[2][3], "stat");
  EXPECT_EQ(lines[2][4], "copy_record");
  EXPECT_EQ(lines[2][9], "absent");
  EXPECT_EQ(lines[3][3], "list");
  EXPECT_EQ(lines[3][8], "1") << "entries listed";
  EXPECT_EQ(lines[4][4], "index");
  EXPECT_EQ(lines[4][9].rfind("error:", 0), 0u) << lines[4][9];
  EXPECT_EQ(lines[5][3], "read");
  EXPECT_EQ(lines[5][8], "300");
  EXPECT_EQ(lines[6][3], "load");
  EXPECT_EQ(lines[6][9], "absent");
  for (const auto& line : lines) EXPECT_GE(std::stod(line[1]), 0.0);
}

TEST(TracedBackend, NothingIsWrappedWithoutTheVariable) {
  ::unsetenv("OBKEEP_TRACE_BACKEND");
  auto memory = std::make_unique<MemoryBackend>();
  Backend* plain = memory.get();
  EXPECT_EQ(with_trace(std::move(memory)).get(), plain);
}

TEST(TracedBackend, ATraceThatCannotBeOpenedIsNamed) {
  ::setenv("OBKEEP_TRACE_BACKEND", "/nonexistent-dir/trace", 1);
  try {
    with_trace(std::make_unique<MemoryBackend>());
    ::unsetenv("OBKEEP_TRACE_BACKEND");
    FAIL() << "no error";
  } catch (const Error& e) {
    ::unsetenv("OBKEEP_TRACE_BACKEND");
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/trace"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace obkeep::storage
