// A repository in a local directory.
#pragma once

#include <filesystem>

#include "storage/backend.hpp"

namespace obkeep::storage {

// Layout: config, keys/<id>, data/<first two hex digits>/<id>, index/<id>,
// snapshots/<id>, locks/<id>. Saves go through a temporary name, fsync, rename
// and a directory fsync.
// Fsyncs a folder, so that a rename or an unlink in it survives a crash. Throws Error.
void fsync_directory(const std::filesystem::path& directory);
// Makes a folder of the repository that an older version did not create (copies/), in a
// root that exists; the root is fsynced. False when it cannot be made. Throws on fsync.
bool create_missing_folder(const std::filesystem::path& folder);

class LocalBackend : public Backend {
 public:
  explicit LocalBackend(std::filesystem::path root);

  std::string location() const override;
  void create() override;
  void save(const Handle& handle, ByteView data) override;
  Bytes load(const Handle& handle, uint64_t offset, uint64_t length) override;
  void read(const Handle& handle, uint64_t offset, uint64_t length, const std::function<void(ByteView)>& use) override;
  void read_into(const Handle& handle, uint64_t offset, std::span<uint8_t> out) override;
  std::optional<uint64_t> stat(const Handle& handle) override;
  void remove(const Handle& handle) override;
  void list(FileType type, const std::function<void(const std::string&, uint64_t)>& visit) override;

  size_t remove_temporaries() override;

  std::filesystem::path path_of(const Handle& handle) const;

 private:
  std::filesystem::path root_;
};

}  // namespace obkeep::storage
