// For unit tests only: a repository in memory with a cheap key derivation, and
// reproducible incompressible data to store in it.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "repo/repository.hpp"
#include "repo/tree.hpp"
#include "storage/mem/memory_backend.hpp"

namespace obkeep::repo {

struct MemoryRepository {
  storage::MemoryBackend* backend;  // owned by the repository; tests may damage its objects
  std::unique_ptr<Repository> repository;
};

// A store far away: it takes calls side by side (background_saves), and each pack read
// waits a few milliseconds; it counts pack reads and the most under way at once. A copy
// holds the same objects, its counts from zero.
class FarMemoryBackend : public storage::MemoryBackend {
 public:
  FarMemoryBackend() = default;
  FarMemoryBackend(const FarMemoryBackend& other) : MemoryBackend(other) {}
  std::atomic<int> pack_reads{0}, reading{0}, most_reading{0};
  size_t background_saves() const override { return 4; }
  Bytes load(const storage::Handle& handle, uint64_t offset, uint64_t length) override {
    if (handle.type != storage::FileType::pack) return MemoryBackend::load(handle, offset, length);
    ++pack_reads;
    int now = ++reading;
    for (int seen = most_reading; now > seen && !most_reading.compare_exchange_weak(seen, now);) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    --reading;
    return MemoryBackend::load(handle, offset, length);
  }
};

inline InitOptions cheap_init_options(int version = format_version) {
  InitOptions options;
  options.scrypt = {1 << 10, 8, 1};
  options.version = version;
  return options;
}

inline MemoryRepository make_memory_repository(const std::string& password = "pw", int version = format_version) {
  auto backend = std::make_unique<storage::MemoryBackend>();
  Repository::init(*backend, password, cheap_init_options(version));
  storage::MemoryBackend* raw = backend.get();
  return {raw, Repository::open(std::move(backend), password)};
}

// Bytes from a linear congruential generator: the same for the same seed, and not
// compressible.
inline Bytes pseudo_random(size_t size, uint32_t seed) {
  Bytes data(size);
  for (auto& byte : data) {
    seed = seed * 1664525u + 1013904223u;
    byte = static_cast<uint8_t>(seed >> 24);
  }
  return data;
}

// One level of a chain of directories: `tree` (the level's own nodes) with the level below,
// if any, as the directory "level<level + 1>"; saved, its id returned.
inline Id save_chain_level(Repository& repository, Tree tree, int level, const std::optional<Id>& below) {
  if (below) {
    Node directory;
    directory.name = "level" + std::to_string(level + 1);
    directory.type = NodeType::directory;
    directory.subtree = below;
    tree.nodes.push_back(directory);
  }
  return save_tree(repository, tree);
}

}  // namespace obkeep::repo
