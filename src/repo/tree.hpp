// A tree blob: the nodes of one directory, sorted by name.
#pragma once

#include <vector>

#include "repo/node.hpp"
#include "repo/repository.hpp"

namespace obkeep::repo {

struct Tree {
  std::vector<Node> nodes;  // sorted by name, names unique

  const Node* find(const std::string& name) const;
};

Bytes encode_tree(const Tree& tree);
// Checks what a restore relies on: names are single path components, unique, sorted.
Tree decode_tree(ByteView data);  // throws IntegrityError

Id save_tree(Repository& repository, Tree tree);
Tree load_tree(Repository& repository, const Id& id);

// Walks of a tree refuse to go deeper: a crafted repository can chain any number of trees,
// and a recursive walk would overflow the stack. Real paths end sooner (PATH_MAX is 4096).
constexpr size_t max_tree_depth = 1024;

// A name that can be created inside a directory: not empty, ".", "..", no "/" or NUL.
bool is_safe_name(const std::string& name);

}  // namespace obkeep::repo
