// An in-memory backend for unit tests.
#include "storage/mem/memory_backend.hpp"

#include "util/error.hpp"

namespace obkeep::storage {

void MemoryBackend::create() {
  std::lock_guard lock(mutex_);
  if (objects_.count({FileType::config, "config"})) throw Error("a repository already exists at memory");
}

void MemoryBackend::save(const Handle& handle, ByteView data) {
  std::lock_guard lock(mutex_);
  objects_[{handle.type, handle.name}] = Bytes(data.begin(), data.end());
}

Bytes MemoryBackend::load(const Handle& handle, uint64_t offset, uint64_t length) {
  std::lock_guard lock(mutex_);
  auto it = objects_.find({handle.type, handle.name});
  if (it == objects_.end()) throw Error("no such object: " + to_string(handle.type) + "/" + handle.name);
  const Bytes& data = it->second;
  if (length == 0) length = offset <= data.size() ? data.size() - offset : 0;
  if (offset + length > data.size()) throw Error("short object: " + handle.name);
  return Bytes(data.begin() + static_cast<long>(offset), data.begin() + static_cast<long>(offset + length));
}

std::optional<uint64_t> MemoryBackend::stat(const Handle& handle) {
  std::lock_guard lock(mutex_);
  auto it = objects_.find({handle.type, handle.name});
  if (it == objects_.end()) return std::nullopt;
  return it->second.size();
}

void MemoryBackend::remove(const Handle& handle) {
  std::lock_guard lock(mutex_);
  objects_.erase({handle.type, handle.name});
}

void MemoryBackend::list(FileType type, const std::function<void(const std::string&, uint64_t)>& visit) {
  std::vector<std::pair<std::string, uint64_t>> entries;
  {
    std::lock_guard lock(mutex_);
    for (auto& [key, data] : objects_)
      if (key.first == type) entries.emplace_back(key.second, data.size());
  }
  for (auto& [name, size] : entries) visit(name, size);
}

}  // namespace obkeep::storage
