// A crafted snapshot cannot make a restore write outside its target.
#include "archiver/restore.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "repo/tree.hpp"
#include "storage/local/local_backend.hpp"

namespace obkeep::archiver {

namespace fs = std::filesystem;
using repo::Node;
using repo::NodeType;
using repo::Tree;

class RestoreEscape : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/obkeep-restore-test.XXXXXX";
    root_ = mkdtemp(pattern);
    auto backend = std::make_unique<storage::LocalBackend>(root_ / "repo");
    repo::InitOptions options;
    options.scrypt = {1 << 10, 8, 1};
    repo::Repository::init(*backend, "pw", options);
    repository_ = repo::Repository::open(std::move(backend), "pw");
    fs::create_directories(root_ / "outside");
    fs::create_directories(root_ / "target");
  }
  void TearDown() override { fs::remove_all(root_); }

  Node file(const std::string& name, const std::string& content) {
    Node node;
    node.name = name;
    node.type = NodeType::file;
    node.mode = 0644;
    node.size = content.size();
    node.content.push_back(repository_->save_blob(repo::BlobType::data, as_bytes(content)));
    return node;
  }
  Node directory(const std::string& name, Tree tree) {
    Node node;
    node.name = name;
    node.type = NodeType::directory;
    node.mode = 0755;
    node.subtree = repo::save_tree(*repository_, std::move(tree));
    return node;
  }
  Node symlink(const std::string& name, const std::string& target) {
    Node node;
    node.name = name;
    node.type = NodeType::symlink;
    node.mode = 0777;
    node.link_target = target;
    return node;
  }
  // Saves a tree whose nodes are written as given (no sorting, no checks).
  Id raw_tree(const std::vector<Node>& nodes) {
    nlohmann::json list = nlohmann::json::array();
    for (const Node& node : nodes) list.push_back(node.to_json());
    std::string text = nlohmann::json{{"nodes", list}}.dump();
    return repository_->save_blob(repo::BlobType::tree, as_bytes(text));
  }
  RestoreResult restore(const Id& tree) {
    repository_->flush();
    RestoreOptions options;
    options.target = (root_ / "target").string();
    return restore_tree(*repository_, tree, options, nullptr);
  }
  bool outside_empty() { return fs::is_empty(root_ / "outside"); }

  fs::path root_;
  std::unique_ptr<repo::Repository> repository_;
};

TEST_F(RestoreEscape, DotDotAndSlashNamesAreRejected) {
  for (const char* name : {"..", ".", "../outside/evil", "a/b", "/abs", ""}) {
    Id tree = raw_tree({file(name, "evil")});
    RestoreResult result = restore(tree);
    EXPECT_FALSE(result.errors.empty()) << name;
    EXPECT_TRUE(outside_empty()) << name;
  }
  EXPECT_TRUE(fs::is_empty(root_ / "target"));
}

TEST_F(RestoreEscape, DuplicateNamesAreRejected) {
  // A symlink and a directory of the same name: the directory would be entered through it.
  Tree inner;
  inner.nodes.push_back(file("evil", "evil"));
  Id tree = raw_tree({symlink("x", (root_ / "outside").string()), directory("x", inner)});
  RestoreResult result = restore(tree);
  EXPECT_FALSE(result.errors.empty());
  EXPECT_TRUE(outside_empty());
}

TEST_F(RestoreEscape, SymlinkFromAnEarlierRestoreIsNotFollowed) {
  Tree first;
  first.nodes.push_back(symlink("x", (root_ / "outside").string()));
  restore(repo::save_tree(*repository_, first));
  ASSERT_TRUE(fs::is_symlink(root_ / "target" / "x"));
  Tree inner;
  inner.nodes.push_back(file("evil", "evil"));
  Tree second;
  second.nodes.push_back(directory("x", inner));
  RestoreResult result = restore(repo::save_tree(*repository_, second));
  EXPECT_FALSE(result.errors.empty());
  EXPECT_TRUE(outside_empty());
}

TEST_F(RestoreEscape, SymlinkedTargetSubdirectoryIsNotFollowed) {
  fs::create_directory_symlink(root_ / "outside", root_ / "target" / "opt");
  Tree inner;
  inner.nodes.push_back(file("config.xml", "<x/>"));
  Tree tree;
  tree.nodes.push_back(directory("opt", inner));
  RestoreResult result = restore(repo::save_tree(*repository_, tree));
  EXPECT_FALSE(result.errors.empty());
  EXPECT_TRUE(outside_empty());
}

TEST_F(RestoreEscape, HonestTreeRestores) {
  Tree inner;
  inner.nodes.push_back(file("a.txt", "alpha"));
  inner.nodes.push_back(symlink("link", "/etc/passwd"));
  Tree tree;
  tree.nodes.push_back(directory("d", inner));
  RestoreResult result = restore(repo::save_tree(*repository_, tree));
  EXPECT_TRUE(result.errors.empty());
  std::ifstream in(root_ / "target" / "d" / "a.txt");
  std::string text;
  in >> text;
  EXPECT_EQ(text, "alpha");
  EXPECT_EQ(fs::read_symlink(root_ / "target" / "d" / "link"), "/etc/passwd");
}

}  // namespace obkeep::archiver
