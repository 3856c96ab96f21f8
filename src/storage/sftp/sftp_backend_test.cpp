// The SFTP backend against a private sshd (tests/servers/sshd.sh): the Backend contract, and
// many threads sharing one backend (the session pool). Skipped where sshd cannot start.
#include "storage/sftp/sftp_backend.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <atomic>
#include <future>
#include <set>
#include <thread>

#include "crypto/aead.hpp"
#include "util/error.hpp"

namespace obkeep::storage {
namespace {

namespace fs = std::filesystem;

const fs::path server_script = fs::path(__FILE__).parent_path() / "../../../tests/servers/sshd.sh";

class SftpServer {
 public:
  SftpServer() {
    char pattern[] = "/tmp/obkeep-sftp-test.XXXXXX";
    if (!::mkdtemp(pattern)) return;
    directory_ = pattern;
    std::string start = "bash '" + server_script.string() + "' start '" + (directory_ / "sshd").string() + "' >'" +
                        (directory_ / "start.log").string() + "' 2>&1";
    if (std::system(start.c_str()) != 0) return;
    std::ifstream port_file(directory_ / "sshd" / "port");
    port_file >> port_;
  }
  ~SftpServer() {
    if (directory_.empty()) return;
    std::string stop = "bash '" + server_script.string() + "' stop '" + (directory_ / "sshd").string() + "'";
    if (std::system(stop.c_str()) != 0) std::fprintf(stderr, "could not stop the test sshd\n");
    fs::remove_all(directory_);
  }
  bool running() const { return port_ != 0; }
  std::string config() const { return (directory_ / "sshd" / "ssh_config").string(); }
  std::string url(const std::string& name) const {
    return "sftp://127.0.0.1:" + std::to_string(port_) + (directory_ / name).string();
  }
  fs::path directory() const { return directory_; }

 private:
  fs::path directory_;
  int port_ = 0;
};

class SftpBackendTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new SftpServer();
    if (server_->running()) {
      ::setenv("OBKEEP_SSH_CONFIG", server_->config().c_str(), 1);
      ::unsetenv("SSH_AUTH_SOCK");
    }
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    // A missing server is a failure, not a skip: scripts/setup.sh installs openssh-server.
    if (!server_->running()) FAIL() << "no private sshd could be started (needs openssh-server)";
  }
  static SftpServer* server_;
};
SftpServer* SftpBackendTest::server_ = nullptr;

Bytes random_data(size_t size) {
  Bytes data(size);
  crypto::random_bytes(data.data(), data.size());
  return data;
}

std::string random_name() {
  uint8_t id[32];
  crypto::random_bytes(id, sizeof id);
  return to_hex(ByteView(id, sizeof id));
}

TEST_F(SftpBackendTest, KeepsTheBackendContract) {
  SftpBackend backend(server_->url("contract"));
  backend.create();
  EXPECT_THROW(backend.create(), Error);
  EXPECT_TRUE(fs::is_directory(server_->directory() / "contract" / "data" / "7f"));

  Handle pack{FileType::pack, random_name()};
  Bytes data = random_data(3 * 1024 * 1024 + 17);  // several requests each way, and a tail
  EXPECT_FALSE(backend.stat(pack).has_value());
  backend.save(pack, data);
  backend.save(pack, data);  // the same content id again: the present object stays
  EXPECT_EQ(backend.stat(pack), data.size());
  EXPECT_EQ(backend.load(pack, 0, 0), data);
  EXPECT_EQ(backend.load(pack, 1000, 300000), Bytes(data.begin() + 1000, data.begin() + 301000));
  backend.read(pack, data.size() - 5, 5, [&](ByteView view) {
    EXPECT_EQ(Bytes(view.begin(), view.end()), Bytes(data.end() - 5, data.end()));
  });
  Bytes into(2 * 1024 * 1024 + 3);  // several requests, straight into the caller's memory
  backend.read_into(pack, 777, into);
  EXPECT_EQ(into, Bytes(data.begin() + 777, data.begin() + 777 + static_cast<ptrdiff_t>(into.size())));
  EXPECT_THROW(backend.load(pack, data.size() - 5, 6), Error);
  EXPECT_THROW(backend.read(pack, data.size() - 5, 6, [](ByteView) {}), Error);
  Bytes beyond(6);
  EXPECT_THROW(backend.read_into(pack, data.size() - 5, beyond), Error);
  EXPECT_THROW(backend.load({FileType::index, random_name()}, 0, 0), Error);
  EXPECT_EQ(backend.load_if_present(pack), data);
  EXPECT_FALSE(backend.load_if_present({FileType::index, random_name()}).has_value());

  std::set<std::string> listed;
  backend.list(FileType::pack, [&](const std::string& name, uint64_t size) {
    listed.insert(name);
    EXPECT_EQ(size, data.size());
  });
  EXPECT_EQ(listed, std::set<std::string>{pack.name});

  std::ofstream(server_->directory() / "contract" / "locks" / ".tmp-0123456789abcdef") << "partial";
  EXPECT_EQ(backend.remove_temporaries(), 1u);
  backend.remove(pack);
  backend.remove(pack);  // already gone: not an error
  EXPECT_FALSE(backend.stat(pack).has_value());
}

// Repositories older than copies/, journal/ and archive/ lack those folders: the first save
// into one makes it, and later saves trust it instead of asking again (a round trip each, at
// a far site, for every archived WAL file).
TEST_F(SftpBackendTest, ANewerFolderIsMadeOnceAndThenTrusted) {
  SftpBackend backend(server_->url("older"));
  backend.create();
  fs::remove_all(server_->directory() / "older" / "archive");
  for (int i = 0; i < 5; ++i) backend.save({FileType::archive, random_name()}, random_data(100));
  EXPECT_EQ(backend.folder_checks(), 1u);
  size_t saved = 0;
  backend.list(FileType::archive, [&](const std::string&, uint64_t size) {
    EXPECT_EQ(size, 100u);
    ++saved;
  });
  EXPECT_EQ(saved, 5u);
}

// A large object is written in stripes by the connections nobody uses (one connection moves
// at most its window a round trip); the stripes land where they belong, an uneven tail too.
TEST_F(SftpBackendTest, LargeObjectsGoUpInStripesThroughIdleConnections) {
  ::setenv("OBKEEP_SFTP_CONNECTIONS", "4", 1);
  SftpBackend backend(server_->url("stripes"));
  ::unsetenv("OBKEEP_SFTP_CONNECTIONS");
  backend.create();
  auto save_and_compare = [&](size_t size) {
    Handle pack{FileType::pack, random_name()};
    Bytes data = random_data(size);
    backend.save(pack, data);
    EXPECT_EQ(backend.stat(pack), data.size());
    EXPECT_EQ(backend.load(pack, 0, 0), data) << size;
  };
  // The pool opens its other connections in the background: once they are up, a large
  // save finds them idle.
  for (int attempt = 0; attempt < 50 && backend.striped_saves() == 0; ++attempt) save_and_compare(17 * 1024 * 1024 + 5);
  ASSERT_EQ(backend.striped_saves(), 1u);
  save_and_compare(9 * 1024 * 1024 - 3);  // two stripes, the second a byte shorter
  EXPECT_EQ(backend.striped_saves(), 2u);
  save_and_compare(4 * 1024 * 1024 + 1);  // under two stripes' worth: one connection
  EXPECT_EQ(backend.striped_saves(), 2u);
  EXPECT_EQ(backend.remove_temporaries(), 0u);  // every stripe's temporary became the object
}

// save_after: the object goes up at once but appears only once ready() returns; a ready()
// that throws abandons it.
TEST_F(SftpBackendTest, SaveAfterShowsTheObjectOnlyOnceReady) {
  SftpBackend backend(server_->url("after"));
  backend.create();
  Handle snapshot{FileType::snapshot, random_name()};
  Bytes data = random_data(300000);
  std::promise<void> go;
  std::shared_future<void> going = go.get_future().share();
  std::atomic<bool> asked{false};
  std::thread saver([&] {
    backend.save_after(snapshot, data, [&] {
      asked = true;
      going.wait();
    });
  });
  for (int wait = 0; !asked && wait < 500; ++wait) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(asked);  // the bytes are written before ready() is asked
  EXPECT_FALSE(backend.stat(snapshot).has_value());
  go.set_value();
  saver.join();
  EXPECT_EQ(backend.load(snapshot, 0, 0), data);

  Handle abandoned{FileType::snapshot, random_name()};
  EXPECT_THROW(backend.save_after(abandoned, data, [] { throw Error("the index failed"); }), Error);
  EXPECT_FALSE(backend.stat(abandoned).has_value());
}

// The repository's workers share one backend; each call must get a session of its own.
TEST_F(SftpBackendTest, ManyThreadsShareOneBackend) {
  SftpBackend backend(server_->url("threads"));
  backend.create();
  constexpr int threads = 8, objects_per_thread = 12;
  std::vector<std::thread> workers;
  std::atomic<int> failures = 0;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      try {
        for (int i = 0; i < objects_per_thread; ++i) {
          Handle handle{i % 2 ? FileType::pack : FileType::index, random_name()};
          Bytes data = random_data(50000 + 37000 * i);
          backend.save(handle, data);
          if (backend.load(handle, 0, 0) != data) ++failures;
          backend.read(handle, 10, 1000, [&](ByteView view) {
            if (!std::equal(view.begin(), view.end(), data.begin() + 10)) ++failures;
          });
        }
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
        ++failures;
      }
    });
  }
  for (auto& worker : workers) worker.join();
  EXPECT_EQ(failures, 0);
  int count = 0;
  backend.list(FileType::pack, [&](const std::string&, uint64_t) { ++count; });
  backend.list(FileType::index, [&](const std::string&, uint64_t) { ++count; });
  EXPECT_EQ(count, threads * objects_per_thread);
}

TEST_F(SftpBackendTest, UnreachableServerIsNoRepository) {
  try {
    SftpBackend backend("sftp://127.0.0.1:1/nowhere");
    FAIL() << "connected to port 1";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::no_repository);
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:1"), std::string::npos) << e.what();
  }
}

// OpenSSH's 2 MB channel window a round trip bounds each connection: far sites get more.
TEST(SshConnectionsForRoundTrip, FourNearbyOneMorePerFiveMillisecondsUpToSixteen) {
  using std::chrono::microseconds, std::chrono::milliseconds;
  EXPECT_EQ(connections_for_round_trip(microseconds(0)), 4u);
  EXPECT_EQ(connections_for_round_trip(microseconds(300)), 4u);
  EXPECT_EQ(connections_for_round_trip(milliseconds(20)), 4u);
  EXPECT_EQ(connections_for_round_trip(milliseconds(30)), 6u);
  EXPECT_EQ(connections_for_round_trip(microseconds(40'600)), 8u);
  EXPECT_EQ(connections_for_round_trip(milliseconds(80)), 16u);
  EXPECT_EQ(connections_for_round_trip(milliseconds(300)), 16u);
}

}  // namespace
}  // namespace obkeep::storage
