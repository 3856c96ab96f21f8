// The repository's folder layout, shared by the file-like backends.
#include "storage/object_layout.hpp"

#include <cstdio>

#include "util/error.hpp"

namespace obkeep::storage {

bool valid_object_name(const Handle& handle) {
  if (handle.type == FileType::config) return handle.name == "config";
  if (handle.name.size() != 64) return false;
  for (char c : handle.name)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::string type_folder(FileType type) {
  switch (type) {
    case FileType::config: return "";
    case FileType::key: return "keys";
    case FileType::pack: return "data";
    case FileType::index: return "index";
    case FileType::snapshot: return "snapshots";
    case FileType::lock: return "locks";
    case FileType::copy_record: return "copies";
    case FileType::journal: return "journal";
    case FileType::archive: return "archive";
  }
  return "";
}

std::string object_folder(const Handle& handle) {
  if (handle.type == FileType::pack) return "data/" + handle.name.substr(0, 2);
  return type_folder(handle.type);
}

std::string object_path(const Handle& handle) {
  if (!valid_object_name(handle)) throw Error("invalid object name: " + handle.name);
  if (handle.type == FileType::config) return "config";
  return object_folder(handle) + "/" + handle.name;
}

std::vector<std::string> repository_folders() {
  std::vector<std::string> folders = {"keys", "index", "snapshots", "locks", "copies", "journal", "archive", "data"};
  for (int i = 0; i < 256; ++i) {
    char name[3];
    std::snprintf(name, sizeof name, "%02x", i);
    folders.push_back(std::string("data/") + name);
  }
  return folders;
}

}  // namespace obkeep::storage
