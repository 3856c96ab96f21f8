// Where each object lives in a repository's folder tree (docs/repository-format.md §1).
#pragma once

#include <string>
#include <vector>

#include "storage/backend.hpp"

namespace obkeep::storage {

// "config" for the config, otherwise 64 lower-case hex digits.
bool valid_object_name(const Handle& handle);
// The object's folder relative to the repository root: "" (config), "keys", "data/ab", ….
std::string object_folder(const Handle& handle);
// The object's path relative to the repository root; throws Error for an invalid name.
std::string object_path(const Handle& handle);
// The folder holding every object of a type ("data" for packs, "" for the config).
std::string type_folder(FileType type);
// Every folder a new repository has, parents first: keys, index, snapshots, locks, data,
// data/00 … data/ff.
std::vector<std::string> repository_folders();

}  // namespace obkeep::storage
