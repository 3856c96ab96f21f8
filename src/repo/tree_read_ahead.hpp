// Reading a snapshot's trees ahead of a walk. A walk loads one directory's tree after
// another; from a remote store each is a round trip or two, and a deployment has thousands
// of directories (at 80 ms, 3,000 trees are four minutes of waiting). Here each tree
// loaded (by the walk or ahead of it) has its subtrees queued for a pool of readers, so
// the waiting is per level of the tree, not per directory. Trees read and not yet walked
// are bounded in number.
//
// The trees sit together in few packs: the first tree wanted from such a pack has the
// pack's whole span of trees read (when small), and the pack's other trees are then opened
// from memory, so the levels of the tree cost round trips only until those reads are in.
#pragma once

#include <condition_variable>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
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
  // A pack's span of trees, read once by whoever wants one of its trees first.
  struct Span {
    uint64_t offset = 0, length = 0;
    bool reading = false, done = false;
    Bytes sealed;  // empty when the read failed: each tree is then read on its own
  };
  static constexpr uint64_t largest_span = 4 * 1024 * 1024;
  static constexpr uint64_t spans_budget = 32 * 1024 * 1024;

  void read_ahead(const Tree& tree);  // with mutex_ held
  void read();
  Tree read_tree(const Id& id);

  Repository& repository_;
  size_t limit_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<Id, std::shared_ptr<Entry>> entries_;  // queued, being read, or read
  std::deque<Id> queue_;
  std::unordered_map<Id, Span, IdHash> spans_;  // fixed at construction; each Span under mutex_
  bool stopping_ = false;
  std::vector<std::thread> readers_;
};

}  // namespace obkeep::repo
