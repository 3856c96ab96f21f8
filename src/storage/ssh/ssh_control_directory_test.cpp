// The control socket's directory: private, short enough for a socket, removed with its owner.
#include "storage/ssh/ssh_control_directory.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace obkeep::storage {

namespace fs = std::filesystem;

TEST(SshControlDirectory, IsPrivateAndGoesWithItsOwnerWithWhatIsLeftInIt) {
  std::string directory;
  {
    SshControlDirectory control;
    ASSERT_FALSE(control.socket_path().empty());
    directory = fs::path(control.socket_path()).parent_path().string();
    struct stat info;
    ASSERT_EQ(::stat(directory.c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0700u) << "only this user may reach the master's socket";
    EXPECT_LE(control.socket_path().size(), 80u) << "a socket path has at most 108 bytes";
    std::ofstream(control.socket_path()) << "left by a master killed before it removed it";
  }
  EXPECT_FALSE(fs::exists(directory));
}

TEST(SshControlDirectory, ATmpdirTooLongForASocketFallsBackToTmp) {
  fs::path longest = fs::temp_directory_path() / std::string(120, 'd');
  fs::create_directories(longest);
  const char* before = std::getenv("TMPDIR");
  std::string saved = before ? before : "";
  ::setenv("TMPDIR", longest.c_str(), 1);
  {
    SshControlDirectory control;
    EXPECT_EQ(control.socket_path().rfind("/tmp/obkeep-ssh-", 0), 0u) << control.socket_path();
  }
  if (before)
    ::setenv("TMPDIR", saved.c_str(), 1);
  else
    ::unsetenv("TMPDIR");
  fs::remove_all(longest);
}

}  // namespace obkeep::storage
