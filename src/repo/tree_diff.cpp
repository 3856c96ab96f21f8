// Merge-walk of two sorted trees.
#include "repo/tree_diff.hpp"

#include "repo/tree.hpp"

namespace obkeep::repo {

namespace {

bool same_metadata(const Node& a, const Node& b) {
  return a.mode == b.mode && a.uid == b.uid && a.gid == b.gid && a.mtime_ns == b.mtime_ns &&
         a.link_target == b.link_target && a.xattrs == b.xattrs && a.rdev == b.rdev;
}

void list_all(Repository& repository, const Node& node, const std::string& path, char kind,
              std::vector<TreeChange>& out) {
  out.push_back({kind, path + (node.type == NodeType::directory ? "/" : "")});
  if (!node.subtree) return;
  for (const Node& child : load_tree(repository, *node.subtree).nodes)
    list_all(repository, child, path + "/" + child.name, kind, out);
}

void diff(Repository& repository, const std::optional<Id>& before, const std::optional<Id>& after,
          const std::string& path, std::vector<TreeChange>& out) {
  if (before && after && *before == *after) return;
  Tree a = before ? load_tree(repository, *before) : Tree{};
  Tree b = after ? load_tree(repository, *after) : Tree{};
  size_t i = 0, j = 0;
  while (i < a.nodes.size() || j < b.nodes.size()) {
    if (j == b.nodes.size() || (i < a.nodes.size() && a.nodes[i].name < b.nodes[j].name)) {
      list_all(repository, a.nodes[i], path + "/" + a.nodes[i].name, '-', out);
      ++i;
    } else if (i == a.nodes.size() || b.nodes[j].name < a.nodes[i].name) {
      list_all(repository, b.nodes[j], path + "/" + b.nodes[j].name, '+', out);
      ++j;
    } else {
      const Node& x = a.nodes[i++];
      const Node& y = b.nodes[j++];
      std::string child = path + "/" + x.name;
      if (x.type != y.type) {
        out.push_back({'T', child});
        continue;
      }
      if (x.type == NodeType::directory) {
        if (!same_metadata(x, y)) out.push_back({'U', child + "/"});
        diff(repository, x.subtree, y.subtree, child, out);
      } else if (x.content != y.content || x.size != y.size) {
        out.push_back({'M', child});
      } else if (!same_metadata(x, y)) {
        out.push_back({'U', child});
      }
    }
  }
}

}  // namespace

std::vector<TreeChange> diff_trees(Repository& repository, const std::optional<Id>& before,
                                   const std::optional<Id>& after, const std::string& path) {
  std::vector<TreeChange> out;
  diff(repository, before, after, path, out);
  return out;
}

}  // namespace obkeep::repo
