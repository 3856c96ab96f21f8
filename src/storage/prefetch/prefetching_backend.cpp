#include "storage/prefetch/prefetching_backend.hpp"

#include <algorithm>

#include "util/parallel_tasks.hpp"

namespace obkeep::storage {

PrefetchingBackend::PrefetchingBackend(std::unique_ptr<Backend> inner, std::vector<FileType> types)
    : ForwardingBackend(std::move(inner)), types_(std::move(types)) {
  thread_ = std::thread([this] {
    try {
      run_parallel(types_.size(), static_cast<unsigned>(types_.size()), [this](size_t i) { prefetch(types_[i]); });
    } catch (...) {
      // No thread to load with: what was not fetched is loaded when asked for.
      std::lock_guard lock(mutex_);
      listed_.insert(types_.begin(), types_.end());
      for (auto& [key, fetched] : objects_)
        if (!fetched.done) fetched.done = fetched.failed = true;
    }
    changed_.notify_all();
  });
}

PrefetchingBackend::~PrefetchingBackend() {
  stopping_ = true;
  thread_.join();
}

void PrefetchingBackend::prefetch(FileType type) {
  std::vector<std::string> names;
  try {
    inner_->list(type, [&](const std::string& name, uint64_t) { names.push_back(name); });
  } catch (...) {
    names.clear();  // the command's own listing reports what is wrong
  }
  {
    std::lock_guard lock(mutex_);
    for (const std::string& name : names) objects_[{type, name}];
    listed_.insert(type);
  }
  changed_.notify_all();
  unsigned loaders = static_cast<unsigned>(std::clamp<size_t>(inner_->background_saves(), 1, 16));
  run_parallel(names.size(), loaders, [&](size_t i) {
    Fetched fetched;
    fetched.done = true;
    if (stopping_) {
      fetched.failed = true;
    } else {
      try {
        fetched.data = inner_->load({type, names[i]}, 0, 0);
      } catch (...) {
        fetched.failed = true;  // loaded again when asked for, and its error reported then
      }
    }
    {
      std::lock_guard lock(mutex_);
      auto found = objects_.find({type, names[i]});
      if (found != objects_.end()) found->second = std::move(fetched);
    }
    changed_.notify_all();
  });
}

Bytes PrefetchingBackend::load(const Handle& handle, uint64_t offset, uint64_t length) {
  if (offset != 0 || length != 0 || std::find(types_.begin(), types_.end(), handle.type) == types_.end())
    return inner_->load(handle, offset, length);
  {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return listed_.count(handle.type) != 0; });
    auto found = objects_.find({handle.type, handle.name});
    if (found != objects_.end()) {
      changed_.wait(lock, [&] { return found->second.done; });
      bool failed = found->second.failed;
      Bytes data = std::move(found->second.data);
      objects_.erase(found);
      if (!failed) {
        served_++;
        return data;
      }
    }
  }
  return inner_->load(handle, offset, length);
}

std::unique_ptr<Backend> with_prefetch(std::unique_ptr<Backend> backend, const std::vector<FileType>& types) {
  if (types.empty() || !backend->remote()) return backend;
  return std::make_unique<PrefetchingBackend>(std::move(backend), types);
}

}  // namespace obkeep::storage
