// Visiting every node of snapshot trees, each tree blob once.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <unordered_set>

#include "repo/tree.hpp"
#include "repo/repository.hpp"

namespace obkeep::repo {

class TreeReadAhead;

// Walks one or more snapshots' trees. From a remote store the trees are read ahead of the
// walk (TreeReadAhead: a round trip per level of the tree, not per directory); the spans of
// trees read for one snapshot serve the next.
class TreeWalker {
 public:
  explicit TreeWalker(Repository& repository);
  ~TreeWalker();
  TreeWalker(const TreeWalker&) = delete;
  TreeWalker& operator=(const TreeWalker&) = delete;

  // Calls `visit_tree(tree_id)` for every tree blob reachable from `root` that is not in
  // `seen` yet (and adds it), and `visit_node(path, node)` for every node of those trees.
  // A tree that cannot be loaded is passed to `on_error` and its subtree skipped; without
  // `on_error`, its error ends the walk.
  void walk(const Id& root, std::unordered_set<Id, IdHash>& seen, const std::function<void(const Id&)>& visit_tree,
            const std::function<void(const std::string&, const Node&)>& visit_node,
            const std::function<void(const Id&, const std::string&, const std::string&)>& on_error);

 private:
  void walk(const Id& tree_id, const std::string& path, std::unordered_set<Id, IdHash>& seen,
            const std::function<void(const Id&)>& visit_tree,
            const std::function<void(const std::string&, const Node&)>& visit_node,
            const std::function<void(const Id&, const std::string&, const std::string&)>& on_error);

  Repository& repository_;
  std::unique_ptr<TreeReadAhead> read_ahead_;  // remote stores only
};

}  // namespace obkeep::repo
