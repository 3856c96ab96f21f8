// An in-memory backend for unit tests.
#pragma once

#include <map>
#include <mutex>

#include "storage/backend.hpp"

namespace obkeep::storage {

class MemoryBackend : public Backend {
 public:
  MemoryBackend() = default;
  // A snapshot of another backend's objects (tests open "the same" repository twice).
  MemoryBackend(const MemoryBackend& other) : objects_(other.objects_) {}

  std::string location() const override { return "memory"; }
  void create() override;
  void save(const Handle& handle, ByteView data) override;
  Bytes load(const Handle& handle, uint64_t offset, uint64_t length) override;
  std::optional<uint64_t> stat(const Handle& handle) override;
  void remove(const Handle& handle) override;
  void list(FileType type, const std::function<void(const std::string&, uint64_t)>& visit) override;

  // Direct access for tests that corrupt or inspect objects.
  std::map<std::pair<FileType, std::string>, Bytes>& objects() { return objects_; }

 private:
  std::mutex mutex_;
  std::map<std::pair<FileType, std::string>, Bytes> objects_;
};

}  // namespace obkeep::storage
