// Tree blobs are JSON: {"nodes": [...]}, sorted by name.
#include "repo/tree.hpp"

#include <algorithm>

#include "util/error.hpp"
#include "util/json_decode.hpp"

namespace obkeep::repo {

using nlohmann::json;

const Node* Tree::find(const std::string& name) const {
  auto it = std::lower_bound(nodes.begin(), nodes.end(), name,
                             [](const Node& node, const std::string& key) { return node.name < key; });
  return it != nodes.end() && it->name == name ? &*it : nullptr;
}

bool is_safe_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
         name.find('\0') == std::string::npos;
}

Bytes encode_tree(const Tree& tree) {
  std::string text = "{\"nodes\":[";
  text.reserve(400 * tree.nodes.size() + 16);
  for (size_t i = 0; i < tree.nodes.size(); ++i) {
    if (i) text += ',';
    tree.nodes[i].append_json(text);
  }
  text += "]}";
  return Bytes(text.begin(), text.end());
}

Tree decode_tree(ByteView data) {
  json parsed = parse_json(data, "tree");
  if (!parsed.is_object() || !parsed.contains("nodes") || !parsed["nodes"].is_array())
    throw IntegrityError("tree is not valid");
  Tree tree;
  for (const json& entry : parsed["nodes"]) {
    Node node = Node::from_json(entry);
    if (!is_safe_name(node.name)) throw IntegrityError("tree has an unsafe name: " + node.name);
    if (!tree.nodes.empty() && !(tree.nodes.back().name < node.name))
      throw IntegrityError("tree names are not sorted and unique at: " + node.name);
    tree.nodes.push_back(std::move(node));
  }
  return tree;
}

Id save_tree(Repository& repository, Tree tree) {
  std::sort(tree.nodes.begin(), tree.nodes.end(), [](const Node& a, const Node& b) { return a.name < b.name; });
  return repository.save_blob(BlobType::tree, encode_tree(tree));
}

Tree load_tree(Repository& repository, const Id& id) {
  Bytes data = repository.load_blob(id);
  try {
    return decode_tree(data);
  } catch (const IntegrityError& e) {
    throw IntegrityError("tree " + id.hex() + ": " + e.what());
  }
}

}  // namespace obkeep::repo
