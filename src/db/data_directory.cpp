#include "db/data_directory.hpp"

#include <sys/stat.h>

#include <filesystem>

#include "util/error.hpp"

namespace obkeep::db {

namespace fs = std::filesystem;

void make_new_data_directory(const std::string& path) {
  if (path.empty()) throw Error("a physical backup restores into a data directory (--to-datadir)");
  std::error_code error;
  if (fs::exists(path) && !fs::is_empty(path, error))
    throw Error("data directory " + path + " is not empty; restore into a new one");
  fs::create_directories(path);
  ::chmod(path.c_str(), 0700);
}

NewDataDirectory::NewDataDirectory(std::string path) : path_(std::move(path)) { make_new_data_directory(path_); }

NewDataDirectory::~NewDataDirectory() {
  if (kept_) return;
  std::error_code error;  // best effort: a destructor reports nothing; the error already on its way says what failed
  for (const fs::directory_entry& entry : fs::directory_iterator(path_, error)) fs::remove_all(entry.path(), error);
}

}  // namespace obkeep::db
