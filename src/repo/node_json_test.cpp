// The directly written node JSON must be byte for byte what nlohmann writes: tree ids are
// hashes of this text, so a difference would split the deduplication of trees.
#include <gtest/gtest.h>

#include "repo/node.hpp"
#include "repo/tree.hpp"

namespace obkeep::repo {

namespace {

Id id_of(char fill) { return Id::from_hex(std::string(64, fill)); }

std::vector<Node> sample_nodes() {
  std::vector<Node> nodes;
  Node file;
  file.name = "consent \"mgt\"\\ \t\n\r\b\f\x01\x1f\x7f é 漢";
  file.mode = 0644;
  file.uid = 4294967295u;
  file.gid = 10;
  file.user = "wso2carbon";
  file.group = "wso2";
  file.mtime_ns = -1'000'000'123;
  file.atime_ns = 1'764'000'000'123'456'789;
  file.ctime_ns = 0;
  file.size = 18'446'744'073'709'551'615ull;
  file.inode = 42;
  file.device = 2049;
  file.links = 2;
  file.content = {id_of('a'), id_of('b'), id_of('0')};
  file.xattrs = {{"user.checksum", Bytes{0, 1, 2, 255}}, {std::string("user.\xff\xfe"), Bytes{}}};
  nodes.push_back(file);

  Node empty_file;
  empty_file.name = "empty";
  nodes.push_back(empty_file);

  Node directory;
  directory.name = "deployment";
  directory.type = NodeType::directory;
  directory.mode = 0755;
  directory.subtree = id_of('c');
  nodes.push_back(directory);

  Node symlink;
  symlink.name = std::string("link-\xc3\x28");  // not UTF-8: stored as base64
  symlink.type = NodeType::symlink;
  symlink.link_target = std::string("../\xe2\x82");
  nodes.push_back(symlink);

  for (NodeType type : {NodeType::block_device, NodeType::char_device, NodeType::fifo, NodeType::socket}) {
    Node special;
    special.name = "special" + std::to_string(static_cast<int>(type));
    special.type = type;
    if (type == NodeType::block_device || type == NodeType::char_device) special.rdev = 0x0801;
    nodes.push_back(special);
  }
  return nodes;
}

}  // namespace

TEST(NodeJson, WrittenDirectlyEqualsTheLibrarysText) {
  for (const Node& node : sample_nodes()) {
    std::string direct;
    node.append_json(direct);
    EXPECT_EQ(direct, node.to_json().dump()) << node.name;
  }
}

TEST(NodeJson, TreeEncodingRoundTrips) {
  Tree tree;
  tree.nodes = sample_nodes();
  std::sort(tree.nodes.begin(), tree.nodes.end(), [](const Node& a, const Node& b) { return a.name < b.name; });
  Bytes encoded = encode_tree(tree);
  nlohmann::json reference = {{"nodes", nlohmann::json::array()}};
  for (const Node& node : tree.nodes) reference["nodes"].push_back(node.to_json());
  EXPECT_EQ(std::string(encoded.begin(), encoded.end()), reference.dump());
  EXPECT_EQ(decode_tree(encoded).nodes, tree.nodes);
  Bytes empty = encode_tree(Tree{});
  EXPECT_EQ(std::string(empty.begin(), empty.end()), "{\"nodes\":[]}");
}

}  // namespace obkeep::repo
