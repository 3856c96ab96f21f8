// Reading a snapshot's trees ahead of a walk. A walk loads one directory's tree after
// another; from a remote store each is a round trip or two, and a deployment has thousands
// of directories (at 80 ms, 3,000 trees are four minutes of waiting). Here each tree
// loaded (by the walk or ahead of it) has its subtrees queued for a pool of readers, so
// the waiting is per level of the tree, not per directory. Trees read and not yet walked
// are bounded in number.
//
// The trees sit together in few packs (a backup writes them in packs of their own; older
// repositories mixed them with file data): the first tree wanted from a span of neighbouring
// trees has the whole span read, and the span's other trees are then opened from memory, so
// the levels of the tree cost round trips only until those reads are in.
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
  // Trees closer than span_gap share a span (the bytes between them are read too).
  static constexpr uint64_t span_gap = 256 * 1024;
  static constexpr uint64_t largest_span = 4 * 1024 * 1024;
  // Spans read and kept; beyond, each tree is read on its own.
  static constexpr uint64_t spans_budget = 64 * 1024 * 1024;

  TreeReadAhead(Repository& repository, unsigned readers, size_t limit);
  ~TreeReadAhead();
  TreeReadAhead(const TreeReadAhead&) = delete;
  TreeReadAhead& operator=(const TreeReadAhead&) = delete;

  // The tree (read ahead, or read now); its subtrees are then read ahead. Throws like
  // load_tree.
  Tree load(const Id& id);
  // Starts reading `id` and, as they arrive, its subtrees: the root, before the walk
  // begins.
  void prefetch(const Id& id);
  // A tree read ahead that the walk will not load (it was walked before): dropped, so it
  // does not count against the limit, and its subtrees are not read ahead.
  void forget(const Id& id);

 private:
  struct Entry {
    bool done = false;
    Tree tree;
    std::exception_ptr error;
  };
  // A span of neighbouring trees in a pack, read once by whoever wants one of its trees
  // first, and kept.
  struct Span {
    uint64_t offset = 0, length = 0;
    bool reading = false, done = false;
    Bytes sealed;  // empty when the read failed: each tree is then read on its own
  };

  void read_ahead(const Tree& tree);  // with mutex_ held
  void read();
  Tree read_tree(const Id& id);

  Repository& repository_;
  size_t limit_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<Id, std::shared_ptr<Entry>> entries_;  // queued, being read, or read
  std::deque<Id> queue_;
  // By pack and offset; fixed at construction, each Span under mutex_.
  std::unordered_map<Id, std::map<uint64_t, Span>, IdHash> spans_;
  uint64_t spans_held_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> readers_;
};

}  // namespace obkeep::repo
