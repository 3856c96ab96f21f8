// Subtrees read ahead of a walk by a pool of readers.
#include "repo/tree_read_ahead.hpp"

#include "util/interrupt.hpp"

namespace obkeep::repo {

TreeReadAhead::TreeReadAhead(Repository& repository, unsigned readers, size_t limit)
    : repository_(repository), limit_(limit) {
  for (unsigned i = 0; i < readers; ++i) readers_.emplace_back([this] { read(); });
}

TreeReadAhead::~TreeReadAhead() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  for (std::thread& reader : readers_) reader.join();
}

void TreeReadAhead::read_ahead(const Tree& tree) {
  for (const Node& node : tree.nodes) {
    if (entries_.size() >= limit_) return;
    if (node.type != NodeType::directory || !node.subtree || entries_.count(*node.subtree)) continue;
    entries_[*node.subtree] = std::make_shared<Entry>();
    queue_.push_back(*node.subtree);
  }
  changed_.notify_all();
}

Tree TreeReadAhead::load(const Id& id) {
  std::unique_lock lock(mutex_);
  auto it = entries_.find(id);
  if (it == entries_.end()) {
    lock.unlock();
    Tree tree = load_tree(repository_, id);
    lock.lock();
    read_ahead(tree);
    return tree;
  }
  std::shared_ptr<Entry> entry = it->second;
  while (!entry->done) {
    changed_.wait_for(lock, std::chrono::milliseconds(100));
    throw_if_interrupted();
  }
  entries_.erase(id);
  if (entry->error) std::rethrow_exception(entry->error);
  return std::move(entry->tree);
}

void TreeReadAhead::read() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    Id id = queue_.front();
    queue_.pop_front();
    std::shared_ptr<Entry> entry = entries_.at(id);
    lock.unlock();
    try {
      entry->tree = load_tree(repository_, id);
    } catch (...) {
      entry->error = std::current_exception();
    }
    lock.lock();
    entry->done = true;
    if (!entry->error) read_ahead(entry->tree);
    changed_.notify_all();
  }
}

}  // namespace obkeep::repo
