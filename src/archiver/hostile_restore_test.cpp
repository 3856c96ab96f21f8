// Restoring crafted snapshots: whatever a tree holds, restore_tree throws nothing but
// obkeep::Error, does not crash, and creates or changes nothing outside its target.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>

#include "archiver/restore.hpp"
#include "repo/tree.hpp"
#include "storage/mem/memory_backend.hpp"
#include "util/error.hpp"

namespace obkeep::archiver {

namespace fs = std::filesystem;
using repo::Node;
using repo::NodeType;
using repo::Tree;

class HostileRestore : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/obkeep-hostile-restore.XXXXXX";
    root_ = mkdtemp(pattern);
    auto backend = std::make_unique<storage::MemoryBackend>();
    repo::InitOptions options;
    options.scrypt = {1 << 10, 8, 1};
    repo::Repository::init(*backend, "pw", options);
    repository_ = repo::Repository::open(std::move(backend), "pw");
    // The sentinel: what a symlink in a crafted tree points at. Its listing must not change.
    fs::create_directories(outside() / "dir");
    std::ofstream(outside() / "victim") << "original";
    before_ = listing(outside());
  }
  void TearDown() override {
    EXPECT_EQ(listing(outside()), before_) << "the restore changed something outside its target";
    std::error_code ignored;
    fs::remove_all(root_, ignored);
  }

  fs::path outside() const { return root_ / "outside"; }
  fs::path target() const { return root_ / "target"; }

  // Every path beneath `directory` with its type, size, mode and modification time.
  static std::map<std::string, std::string> listing(const fs::path& directory) {
    std::map<std::string, std::string> entries;
    for (const auto& entry : fs::recursive_directory_iterator(directory)) {
      struct stat info;
      if (lstat(entry.path().c_str(), &info) != 0) continue;
      entries[entry.path().string()] = std::to_string(info.st_mode) + " " + std::to_string(info.st_size) + " " +
                                       std::to_string(info.st_mtim.tv_sec) + "." + std::to_string(info.st_mtim.tv_nsec);
    }
    return entries;
  }

  Id data(const std::string& content) { return repository_->save_blob(repo::BlobType::data, as_bytes(content)); }
  Node file(const std::string& name, const std::string& content) {
    Node node;
    node.name = name;
    node.type = NodeType::file;
    node.mode = 0644;
    node.size = content.size();
    node.content.push_back(data(content));
    return node;
  }
  Node directory(const std::string& name, const Id& subtree) {
    Node node;
    node.name = name;
    node.type = NodeType::directory;
    node.mode = 0755;
    node.subtree = subtree;
    return node;
  }
  Node symlink(const std::string& name, const std::string& link_target) {
    Node node;
    node.name = name;
    node.type = NodeType::symlink;
    node.mode = 0777;
    node.link_target = link_target;
    return node;
  }
  // Saves the nodes exactly as given: not sorted, names not checked (decode_tree must catch it).
  Id raw_tree(std::vector<Node> nodes) {
    Tree tree;
    tree.nodes = std::move(nodes);
    return repository_->save_blob(repo::BlobType::tree, repo::encode_tree(tree));
  }

  // Restores `tree`: an obkeep::Error is an acceptable outcome, any other exception a failure.
  std::optional<RestoreResult> restore(const Id& tree) {
    repository_->flush();
    RestoreOptions options;
    options.target = target().string();
    try {
      return restore_tree(*repository_, tree, options, nullptr);
    } catch (const Error& e) {
      return std::nullopt;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "restore threw a non-obkeep exception: " << e.what();
      return std::nullopt;
    }
  }
  // The restore must go through and report the damage in RestoreResult.errors.
  RestoreResult restore_with_errors(const Id& tree) {
    std::optional<RestoreResult> result = restore(tree);
    if (!result) {
      ADD_FAILURE() << "restore threw instead of reporting the damaged entry";
      return {};
    }
    EXPECT_FALSE(result->errors.empty());
    return *result;
  }
  std::string read(const fs::path& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  fs::path root_;
  std::unique_ptr<repo::Repository> repository_;
  std::map<std::string, std::string> before_;
};

TEST_F(HostileRestore, UnsafeNamesOfEveryKindAreRejected) {
  const std::string escape = "../outside/victim";
  for (const std::string& name : {std::string(".."), std::string("."), std::string("a/b"), escape,
                                  std::string("/abs"), std::string(), std::string("a\0b", 3), std::string("..\0x", 4)}) {
    Id below = raw_tree({file("x", "evil")});
    for (const Node& node : {file(name, "evil"), directory(name, below), symlink(name, outside().string())}) {
      restore_with_errors(raw_tree({node}));
      EXPECT_TRUE(fs::is_empty(target())) << to_string(node.type) << " named " << name;
    }
  }
  EXPECT_EQ(read(outside() / "victim"), "original");
}

TEST_F(HostileRestore, DuplicateAndUnsortedNamesAreRejected) {
  Id below = raw_tree({file("x", "evil")});
  restore_with_errors(raw_tree({file("a", "one"), file("a", "two")}));
  // A symlink out of the target, then a directory of the same name with a file beneath: the
  // file must not be written through the symlink.
  restore_with_errors(raw_tree({symlink("a", outside().string()), directory("a", below)}));
  restore_with_errors(raw_tree({directory("a", below), symlink("a", outside().string())}));
  restore_with_errors(raw_tree({file("b", "b"), file("a", "a")}));
  EXPECT_FALSE(fs::exists(outside() / "x"));
}

TEST_F(HostileRestore, SymlinkOutOfTheTargetIsNeverWrittenThrough) {
  // One snapshot leaves symlinks out of the target; later ones put entries beneath them.
  ASSERT_TRUE(restore(raw_tree({symlink("a", outside().string()), symlink("f", (outside() / "victim").string()),
                                symlink("up", "../outside")})));
  ASSERT_TRUE(fs::is_symlink(target() / "a"));
  Id below = raw_tree({file("victim", "evil"), file("x", "evil"), directory("dir", raw_tree({file("y", "evil")}))});
  RestoreResult result = restore_with_errors(raw_tree({directory("a", below), file("f", "evil"), directory("up", below)}));
  // The file replaced the symlink named f; the directories could not be created over symlinks.
  EXPECT_FALSE(fs::is_symlink(target() / "f"));
  EXPECT_EQ(read(target() / "f"), "evil");
  EXPECT_EQ(read(outside() / "victim"), "original");
  EXPECT_EQ(result.files, 1u);
}

TEST_F(HostileRestore, HardLinksStayInsideTheTarget) {
  // Hard links are (device, inode) pairs; later ones link to the first one's path, which is
  // always one the restore made. The first link's content is missing here, so the others
  // have nothing to link to.
  Node first = file("first", "data");
  first.links = 3;
  first.device = 7;
  first.inode = 9;
  first.content = {Id{}};
  Node second = first;
  second.name = "second";
  Node third = first;
  third.name = "victim";
  Id tree = raw_tree({directory("d", raw_tree({first})), second, symlink("up", "../outside"), third});
  restore_with_errors(tree);
  EXPECT_FALSE(fs::exists(target() / "second"));
  EXPECT_EQ(read(outside() / "victim"), "original");

  // With the content present, all names link to the first file.
  first.content = {data("data")};
  second = first;
  second.name = "second";
  std::optional<RestoreResult> result = restore(raw_tree({directory("d", raw_tree({first})), second}));
  ASSERT_TRUE(result);
  EXPECT_TRUE(result->errors.empty());
  EXPECT_TRUE(fs::equivalent(target() / "d" / "first", target() / "second"));
}

TEST_F(HostileRestore, DeviceNodesFifosAndSocketsDoNotCrash) {
  Node character;
  character.name = "null";
  character.type = NodeType::char_device;
  character.mode = 0666;
  character.rdev = makedev(1, 3);
  Node block = character;
  block.name = "disk";
  block.type = NodeType::block_device;
  block.rdev = ~uint64_t{0};
  Node fifo = character;
  fifo.name = "fifo";
  fifo.type = NodeType::fifo;
  Node socket = character;
  socket.name = "socket";
  socket.type = NodeType::socket;
  std::optional<RestoreResult> result = restore(raw_tree({block, fifo, character, socket}));
  ASSERT_TRUE(result);
  EXPECT_FALSE(result->warnings.empty());  // the socket, and the devices unless root
  struct stat info;
  ASSERT_EQ(lstat((target() / "fifo").c_str(), &info), 0);
  EXPECT_TRUE(S_ISFIFO(info.st_mode));
}

TEST_F(HostileRestore, FileSizesThatLieAreReported) {
  Node longer = file("longer", "12345");
  longer.size = 100;
  Node shorter = file("shorter", "12345");
  shorter.size = 2;
  Node huge = file("huge", "12345");  // takes the large-file path
  huge.size = uint64_t{1} << 40;
  Node missing = file("missing", "12345");
  missing.content.push_back(Id{});
  Node no_content = file("no-content", "");
  no_content.size = 10;
  Node honest = file("honest", "12345");
  RestoreResult result = restore_with_errors(raw_tree({honest, huge, longer, missing, no_content, shorter}));
  EXPECT_EQ(result.errors.size(), 5u);
  EXPECT_EQ(result.files, 1u);
  EXPECT_EQ(read(target() / "honest"), "12345");
  for (const char* name : {"longer", "shorter", "huge", "missing", "no-content"})
    EXPECT_FALSE(fs::exists(target() / name)) << name << " looks restored";
}

TEST_F(HostileRestore, MissingAndDamagedTreesAreReported) {
  Node lost = directory("lost", Id{});
  Node not_a_tree = directory("data", data("{\"nodes\": 5}"));
  Node no_subtree = directory("empty", Id{});
  no_subtree.subtree.reset();
  RestoreResult result = restore_with_errors(raw_tree({not_a_tree, no_subtree, lost}));
  EXPECT_EQ(result.errors.size(), 2u);
  EXPECT_TRUE(fs::is_directory(target() / "empty"));
}

TEST_F(HostileRestore, NestingTenThousandDeepIsBounded) {
  Id tree = raw_tree({file("bottom", "x")});
  for (int depth = 0; depth < 10000; ++depth) tree = raw_tree({directory("d", tree)});
  RestoreResult result = restore_with_errors(tree);
  EXPECT_LE(result.directories, repo::max_tree_depth);  // and the stack held
  bool named = false;
  for (const std::string& error : result.errors) named = named || error.find("deeper than") != std::string::npos;
  EXPECT_TRUE(named) << "no error says the tree is nested too deeply";
}

}  // namespace obkeep::archiver
