// Depth-first traversal of tree blobs with a shared "seen" set, so snapshots that share
// most of their trees are walked in time proportional to what differs.
#include "repo/tree_walk.hpp"

#include "util/error.hpp"

namespace obkeep::repo {

static void walk(Repository& repository, const Id& tree_id, const std::string& path,
                 std::unordered_set<Id, IdHash>& seen, const std::function<void(const Id&)>& visit_tree,
                 const std::function<void(const std::string&, const Node&)>& visit_node,
                 const std::function<void(const Id&, const std::string&, const std::string&)>& on_error) {
  if (!seen.insert(tree_id).second) return;
  visit_tree(tree_id);
  Tree tree;
  try {
    tree = load_tree(repository, tree_id);
  } catch (const Error& e) {
    on_error(tree_id, path.empty() ? "/" : path, e.what());
    return;
  }
  for (const Node& node : tree.nodes) {
    std::string child = path + "/" + node.name;
    visit_node(child, node);
    if (node.subtree) walk(repository, *node.subtree, child, seen, visit_tree, visit_node, on_error);
  }
}

void walk_trees(Repository& repository, const Id& root, std::unordered_set<Id, IdHash>& seen,
                const std::function<void(const Id&)>& visit_tree,
                const std::function<void(const std::string&, const Node&)>& visit_node,
                const std::function<void(const Id&, const std::string&, const std::string&)>& on_error) {
  walk(repository, root, "", seen, visit_tree, visit_node, on_error);
}

}  // namespace obkeep::repo
