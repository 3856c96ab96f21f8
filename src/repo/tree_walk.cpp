// Depth-first traversal of tree blobs with a shared "seen" set, so snapshots that share
// most of their trees are walked in time proportional to what differs.
#include "repo/tree_walk.hpp"

#include "repo/tree_read_ahead.hpp"
#include "util/error.hpp"

namespace obkeep::repo {

namespace {
// Trees read ahead and not yet walked, at most.
constexpr size_t trees_ahead = 4096;
}  // namespace

TreeWalker::TreeWalker(Repository& repository) : repository_(repository) {
  if (size_t transfers = repository.backend().background_saves())
    read_ahead_ = std::make_unique<TreeReadAhead>(repository, static_cast<unsigned>(2 * transfers), trees_ahead);
}

TreeWalker::~TreeWalker() = default;

void TreeWalker::walk(const Id& root, std::unordered_set<Id, IdHash>& seen,
                      const std::function<void(const Id&)>& visit_tree,
                      const std::function<void(const std::string&, const Node&)>& visit_node,
                      const std::function<void(const Id&, const std::string&, const std::string&)>& on_error) {
  walk(root, "", seen, visit_tree, visit_node, on_error);
}

void TreeWalker::walk(const Id& tree_id, const std::string& path, std::unordered_set<Id, IdHash>& seen,
                      const std::function<void(const Id&)>& visit_tree,
                      const std::function<void(const std::string&, const Node&)>& visit_node,
                      const std::function<void(const Id&, const std::string&, const std::string&)>& on_error) {
  if (!seen.insert(tree_id).second) {
    // Read ahead as a subtree of a tree walked now, but walked before: not wanted again.
    if (read_ahead_) read_ahead_->forget(tree_id);
    return;
  }
  visit_tree(tree_id);
  Tree tree;
  try {
    tree = read_ahead_ ? read_ahead_->load(tree_id) : load_tree(repository_, tree_id);
  } catch (const Error& e) {
    if (e.code() == ExitCode::interrupted || !on_error) throw;
    on_error(tree_id, path.empty() ? "/" : path, e.what());
    return;
  }
  for (const Node& node : tree.nodes) {
    std::string child = path + "/" + node.name;
    visit_node(child, node);
    if (node.subtree) walk(*node.subtree, child, seen, visit_tree, visit_node, on_error);
  }
}

}  // namespace obkeep::repo
