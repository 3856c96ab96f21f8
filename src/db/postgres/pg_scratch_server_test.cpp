// The drill's throwaway PostgreSQL server: which binaries it picks, and that a data
// directory it cannot start fails at once with the server's own reason, leaving nothing.
#include "db/postgres/pg_scratch_server.hpp"

#include <gtest/gtest.h>
#include <pwd.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "util/error.hpp"

namespace obkeep::db {

namespace fs = std::filesystem;

namespace {

size_t socket_directories() {
  size_t count = 0;
  for (const auto& entry : fs::directory_iterator("/tmp"))
    if (entry.path().filename().string().rfind("obkeep-pg-", 0) == 0) ++count;
  return count;
}

}  // namespace

TEST(PgScratchServer, BinariesOfTheBackupsMajorVersionOrNone) {
  std::string fifteen = PgScratchServer::binaries_for("15.18 (Debian 15.18-0+deb12u1)");
  if (fs::exists("/usr/lib/postgresql/15/bin/postgres")) EXPECT_EQ(fifteen, "/usr/lib/postgresql/15/bin");
  else EXPECT_EQ(fifteen, "");
  EXPECT_EQ(PgScratchServer::binaries_for("99.1"), "");
  EXPECT_EQ(PgScratchServer::binaries_for(""), "");
  EXPECT_EQ(PgScratchServer::binaries_for("../../bin/sh"), "");
}

TEST(PgScratchServer, ADirectoryThatIsNoClusterFailsWithTheServersReason) {
  std::string binaries = PgScratchServer::binaries_for("15");
  if (binaries.empty()) GTEST_SKIP() << "no PostgreSQL 15 server here";
  if (geteuid() == 0 && !getpwnam("postgres")) GTEST_SKIP() << "root without a postgres user";
  fs::path directory = fs::temp_directory_path() / ("obkeep-scratch-test-" + std::to_string(getpid()));
  fs::create_directories(directory / "data");
  fs::permissions(directory, fs::perms::owner_all | fs::perms::others_exec | fs::perms::group_exec);
  std::ofstream(directory / "data" / "PG_VERSION") << "15\n";  // looks like one, is not
  size_t before = socket_directories();
  auto start = std::chrono::steady_clock::now();
  {
    PgScratchServer server((directory / "data").string(), binaries);
    try {
      server.start(60);
      ADD_FAILURE() << "a server started on an empty data directory";
    } catch (const Error& e) {
      std::string message = e.what();
      EXPECT_NE(message.find("did not start"), std::string::npos) << message;
      EXPECT_NE(message.find("could not find the database system"), std::string::npos) << message;
      EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    }
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_EQ(socket_directories(), before);
  fs::remove_all(directory);
}

}  // namespace obkeep::db
