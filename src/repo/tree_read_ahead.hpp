// Reading a snapshot's trees ahead of a walk. A walk loads one directory's tree after
// another; from a remote store each is a round trip or two, and a deployment has thousands
// of directories (at 80 ms, 3,000 trees are four minutes of waiting). Here each tree
// loaded (by the walk or ahead of it) has its subtrees queued for a pool of readers, so
// the waiting is per level of the tree, not per directory. Trees read and not yet walked
// are bounded in number.
#pragma once

#include <condition_variable>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "repo/tree.hpp"

namespace obkeep::repo {

class TreeReadAhead {
 public:
  TreeReadAhead(Repository& repository, unsigned readers, size_t limit);
  ~TreeReadAhead();
  TreeReadAhead(const TreeReadAhead&) = delete;
  TreeReadAhead& operator=(const TreeReadAhead&) = delete;

  // The tree (read ahead, or read now); its subtrees are then read ahead. Throws like
  // load_tree.
  Tree load(const Id& id);

 private:
  struct Entry {
    bool done = false;
    Tree tree;
    std::exception_ptr error;
  };
  void read_ahead(const Tree& tree);  // with mutex_ held
  void read();

  Repository& repository_;
  size_t limit_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<Id, std::shared_ptr<Entry>> entries_;  // queued, being read, or read
  std::deque<Id> queue_;
  bool stopping_ = false;
  std::vector<std::thread> readers_;
};

}  // namespace obkeep::repo
