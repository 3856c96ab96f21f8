// The control socket's directory: private, short enough for a socket, removed with its owner.
#include "storage/ssh/ssh_control_directory.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "util/error.hpp"

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
    std::ofstream(control.socket_path() + "1") << "so was a second master's";
  }
  EXPECT_FALSE(fs::exists(directory));
}

// Ten connections a master; a master's later connections open only once its first has
// connected, so that they find its socket and do not each connect on their own.
TEST(SshControlDirectory, TenConnectionsAMasterOpenedAfterItsFirst) {
  SshControlDirectory control;
  std::mutex mutex;
  std::vector<std::string> paths;
  std::map<std::string, bool> up;  // by socket: its first connection returned
  bool early = false;
  auto open = [&](const std::string& path) {
    bool first;
    {
      std::lock_guard lock(mutex);
      first = !up.contains(path);
      if (first) up[path] = false;
      else if (!up[path]) early = true;
      paths.push_back(path);
    }
    if (first) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // a handshake
      std::lock_guard lock(mutex);
      up[path] = true;
    }
    return path;
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < 45; ++i) {
    threads.emplace_back([&] { control.connect(open, nullptr); });
    if (i % 10 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the first of each in flight
  }
  for (auto& thread : threads) thread.join();
  EXPECT_FALSE(early) << "a connection started before its master was up";
  const std::string& m = control.socket_path();
  EXPECT_EQ(std::count(paths.begin(), paths.end(), m), 10);
  EXPECT_EQ(std::count(paths.begin(), paths.end(), m + "1"), 10);
  EXPECT_EQ(std::count(paths.begin(), paths.end(), m + "2"), 10);
  EXPECT_EQ(std::count(paths.begin(), paths.end(), m + "3"), 15);  // the last master takes the rest
}

TEST(SshControlDirectory, AFailedFirstConnectionLetsTheOthersTryAndACloseEndsTheWait) {
  SshControlDirectory control;
  EXPECT_THROW(control.connect([](const std::string&) -> int { throw std::runtime_error("refused"); }, nullptr),
               std::runtime_error);
  EXPECT_EQ(control.connect([](const std::string&) { return 2; }, nullptr), 2);  // not held back

  SshControlDirectory second;
  std::atomic<bool> closing{false}, first_opening{false}, waiter_done{false};
  std::thread first([&] {
    second.connect(
        [&](const std::string&) {
          first_opening = true;
          // The master's handshake outlasts the wait (bounded, should the wait never end).
          for (int i = 0; i < 10000 && !waiter_done; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
          return 1;
        },
        nullptr);
  });
  while (!first_opening) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::thread closer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    closing = true;
  });
  EXPECT_THROW(second.connect([](const std::string&) { return 3; }, &closing), Error);
  waiter_done = true;
  closer.join();
  first.join();
}

// $TMPDIR set to `path` while alive, then as it was.
class TmpdirForTheTest {
 public:
  explicit TmpdirForTheTest(const fs::path& path) {
    const char* before = std::getenv("TMPDIR");
    if (before) saved_ = before;
    ::setenv("TMPDIR", path.c_str(), 1);
  }
  ~TmpdirForTheTest() {
    if (saved_)
      ::setenv("TMPDIR", saved_->c_str(), 1);
    else
      ::unsetenv("TMPDIR");
  }

 private:
  std::optional<std::string> saved_;
};

// A pid that was in use and is no longer: a child that has exited and been reaped.
pid_t a_gone_pid() {
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status;
  ::waitpid(child, &status, 0);
  return child;
}

TEST(SshControlDirectory, TheDirectoriesOfKilledProcessesAreRemoved) {
  fs::path base = fs::temp_directory_path() / ("obkeep-control-test-" + std::to_string(::getpid()));
  fs::create_directories(base);
  TmpdirForTheTest tmpdir(base);
  fs::path killed = base / ("obkeep-ssh-" + std::to_string(a_gone_pid()) + "-abcdef");
  fs::path killed_with_more = base / ("obkeep-ssh-" + std::to_string(a_gone_pid()) + "-ghijkl");
  fs::path alive = base / ("obkeep-ssh-" + std::to_string(::getppid()) + "-mnopqr");
  fs::path unnamed = base / "obkeep-ssh-Xy12ab";  // an older obkeep's: no pid to judge by
  // A pid gone here, but a master answers on its socket (a process of another pid namespace).
  fs::path answering = base / ("obkeep-ssh-" + std::to_string(a_gone_pid()) + "-stuvwx");
  for (const fs::path& directory : {killed, killed_with_more, alive, unnamed, answering}) fs::create_directory(directory);
  int listening = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::string socket_path = (answering / "m").string();
  socket_path.copy(address.sun_path, socket_path.size());
  ASSERT_EQ(::bind(listening, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(listening, 1), 0);
  std::ofstream(killed / "m") << "the socket of a master killed with its owner";
  std::ofstream(killed_with_more / "notes") << "not ours to remove";
  {
    SshControlDirectory control;
    EXPECT_EQ(control.socket_path().rfind((base / ("obkeep-ssh-" + std::to_string(::getpid()) + "-")).string(), 0), 0u)
        << control.socket_path();
    EXPECT_FALSE(fs::exists(killed));
    EXPECT_TRUE(fs::exists(killed_with_more));
    EXPECT_TRUE(fs::exists(alive));
    EXPECT_TRUE(fs::exists(unnamed));
    EXPECT_TRUE(fs::exists(answering / "m"));
  }
  ::close(listening);
  fs::remove_all(base);
}

TEST(SshControlDirectory, ATmpdirTooLongForASocketFallsBackToTmp) {
  fs::path longest = fs::temp_directory_path() / std::string(120, 'd');
  fs::create_directories(longest);
  TmpdirForTheTest tmpdir(longest);
  {
    SshControlDirectory control;
    EXPECT_EQ(control.socket_path().rfind("/tmp/obkeep-ssh-", 0), 0u) << control.socket_path();
  }
  fs::remove_all(longest);
}

}  // namespace obkeep::storage
