// Subtrees read ahead of a walk by a pool of readers.
#include "repo/tree_read_ahead.hpp"

#include "repo/repository.hpp"
#include "util/error.hpp"
#include "util/interrupt.hpp"

namespace obkeep::repo {

TreeReadAhead::TreeReadAhead(Repository& repository, unsigned readers, size_t limit)
    : repository_(repository), limit_(limit) {
  for (const auto& [pack, spans] : repository_.index().tree_spans(span_gap, largest_span))
    for (const Index::Span& span : spans) {
      Span& mine = spans_[pack][span.offset];
      mine.offset = span.offset;
      mine.length = span.length;
    }
  for (unsigned i = 0; i < readers; ++i) readers_.emplace_back([this] { read(); });
}

Tree TreeReadAhead::read_tree(const Id& id) {
  BlobLocation location = repository_.locate(id);
  auto by_pack = spans_.find(location.pack);
  if (by_pack == spans_.end()) return load_tree(repository_, id);
  auto after = by_pack->second.upper_bound(location.offset);
  if (after == by_pack->second.begin()) return load_tree(repository_, id);
  Span& span = std::prev(after)->second;
  if (uint64_t(location.offset) + location.stored_length > span.offset + span.length) return load_tree(repository_, id);
  {
    std::unique_lock lock(mutex_);
    if (!span.reading) {
      if (spans_held_ + span.length > spans_budget) {
        lock.unlock();
        return load_tree(repository_, id);
      }
      spans_held_ += span.length;
      span.reading = true;
      lock.unlock();
      Bytes sealed;
      try {
        sealed = repository_.read_pack_range(location.pack, span.offset, span.length);
      } catch (const Error& e) {
        if (e.code() == ExitCode::interrupted) throw;
        // Each tree is read on its own instead, which names the one at fault.
      }
      lock.lock();
      span.sealed = std::move(sealed);
      span.done = true;
      changed_.notify_all();
    }
    while (!span.done) {
      changed_.wait_for(lock, std::chrono::milliseconds(100));
      throw_if_interrupted();
    }
  }
  // Written once before `done`: read without the lock.
  if (span.sealed.size() != span.length) return load_tree(repository_, id);
  Bytes plain(location.raw_length);
  repository_.open_blob_into(id, location, ByteView(span.sealed.data() + (location.offset - span.offset), location.stored_length), plain);
  try {
    return decode_tree(plain);
  } catch (const IntegrityError& e) {
    throw IntegrityError("tree " + id.hex() + ": " + e.what());
  }
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
    Tree tree = read_tree(id);
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

void TreeReadAhead::prefetch(const Id& id) {
  std::lock_guard lock(mutex_);
  if (entries_.count(id) || entries_.size() >= limit_) return;
  entries_[id] = std::make_shared<Entry>();
  queue_.push_back(id);
  changed_.notify_all();
}

void TreeReadAhead::forget(const Id& id) {
  std::lock_guard lock(mutex_);
  entries_.erase(id);
}

void TreeReadAhead::read() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    Id id = queue_.front();
    queue_.pop_front();
    auto queued = entries_.find(id);
    if (queued == entries_.end()) continue;  // forgotten while queued
    std::shared_ptr<Entry> entry = queued->second;
    lock.unlock();
    try {
      entry->tree = read_tree(id);
    } catch (...) {
      entry->error = std::current_exception();
    }
    lock.lock();
    entry->done = true;
    auto wanted = entries_.find(id);
    if (!entry->error && wanted != entries_.end() && wanted->second == entry) read_ahead(entry->tree);
    changed_.notify_all();
  }
}

}  // namespace obkeep::repo
