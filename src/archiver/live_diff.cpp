// Merge-walk of a snapshot tree and a live directory, both in name order.
#include "archiver/live_diff.hpp"

#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>

#include "archiver/capture_node.hpp"
#include "repo/tree.hpp"
#include "util/error.hpp"

namespace obkeep::archiver {

namespace {

using repo::Node;
using repo::NodeType;
using repo::TreeChange;

bool excluded(const std::vector<std::string>& excludes, const std::string& path, const std::string& name) {
  for (const std::string& pattern : excludes)
    if (fnmatch(pattern.c_str(), (pattern.find('/') != std::string::npos ? path : name).c_str(), 0) == 0) return true;
  return false;
}

std::vector<Node> live_entries(const std::string& path, const std::vector<std::string>& excludes) {
  std::vector<Node> nodes;
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return nodes;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(path, error)) {
    std::string name = entry.path().filename().string();
    if (excluded(excludes, entry.path().string(), name)) continue;
    struct stat info;
    if (fstatat(fd, name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) continue;
    nodes.push_back(capture_node(fd, name, info));
  }
  ::close(fd);
  std::sort(nodes.begin(), nodes.end(), [](const Node& a, const Node& b) { return a.name < b.name; });
  return nodes;
}

void list_saved(repo::Repository& repository, const Node& node, const std::string& path, std::vector<TreeChange>& out) {
  out.push_back({'-', path + (node.type == NodeType::directory ? "/" : "")});
  if (node.subtree)
    for (const Node& child : repo::load_tree(repository, *node.subtree).nodes)
      list_saved(repository, child, path + "/" + child.name, out);
}

void list_live(const Node& node, const std::string& path, const std::vector<std::string>& excludes,
               std::vector<TreeChange>& out) {
  out.push_back({'+', path + (node.type == NodeType::directory ? "/" : "")});
  if (node.type == NodeType::directory)
    for (const Node& child : live_entries(path, excludes)) list_live(child, path + "/" + child.name, excludes, out);
}

void diff(repo::Repository& repository, const Node& saved, const std::string& path,
          const std::vector<std::string>& excludes, std::vector<TreeChange>& out) {
  std::vector<Node> before;
  if (saved.subtree)
    for (Node& node : repo::load_tree(repository, *saved.subtree).nodes)
      if (!excluded(excludes, path + "/" + node.name, node.name)) before.push_back(std::move(node));
  std::vector<Node> now = live_entries(path, excludes);
  size_t i = 0, j = 0;
  while (i < before.size() || j < now.size()) {
    if (j == now.size() || (i < before.size() && before[i].name < now[j].name)) {
      list_saved(repository, before[i], path + "/" + before[i].name, out);
      ++i;
    } else if (i == before.size() || now[j].name < before[i].name) {
      list_live(now[j], path + "/" + now[j].name, excludes, out);
      ++j;
    } else {
      const Node& a = before[i++];
      const Node& b = now[j++];
      std::string child = path + "/" + a.name;
      if (a.type != b.type) {
        out.push_back({'T', child});
      } else if (a.type == NodeType::directory) {
        if (a.mode != b.mode || a.uid != b.uid || a.gid != b.gid) out.push_back({'U', child + "/"});
        diff(repository, a, child, excludes, out);
      } else if (a.size != b.size || a.mtime_ns != b.mtime_ns || a.link_target != b.link_target) {
        out.push_back({'M', child});
      } else if (a.mode != b.mode || a.uid != b.uid || a.gid != b.gid) {
        out.push_back({'U', child});
      }
    }
  }
}

}  // namespace

std::vector<TreeChange> diff_live(repo::Repository& repository, const Node& saved, const std::string& path,
                                  const std::vector<std::string>& excludes) {
  std::vector<TreeChange> out;
  diff(repository, saved, path, excludes, out);
  return out;
}

}  // namespace obkeep::archiver
