// Visiting every node of snapshot trees, each tree blob once.
#pragma once

#include <functional>
#include <string>
#include <unordered_set>

#include "repo/tree.hpp"
#include "repo/repository.hpp"

namespace obkeep::repo {

// Calls `visit_tree(tree_id)` for every tree blob reachable from `root` that is not in
// `seen` yet (and adds it), and `visit_node(path, node)` for every node of those trees.
// A tree that cannot be loaded is passed to `on_error` and its subtree skipped.
void walk_trees(Repository& repository, const Id& root, std::unordered_set<Id, IdHash>& seen,
                const std::function<void(const Id&)>& visit_tree,
                const std::function<void(const std::string&, const Node&)>& visit_node,
                const std::function<void(const Id&, const std::string&, const std::string&)>& on_error);

}  // namespace obkeep::repo
