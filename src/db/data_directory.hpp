// The directory a physical restore writes a server's files into.
#pragma once

#include <string>

namespace obkeep::db {

// Creates `path` (mode 0700) or accepts it empty; throws Error when it holds anything:
// a physical restore never mixes its files with others.
void make_new_data_directory(const std::string& path);

// A data directory a restore is about to fill: made (or found empty) at construction, and
// emptied again at destruction unless kept, so a restore that fails half way (a damaged
// pack, a full disk, ^C) leaves it as it was and the next attempt can use it.
class NewDataDirectory {
 public:
  explicit NewDataDirectory(std::string path);
  ~NewDataDirectory();
  NewDataDirectory(const NewDataDirectory&) = delete;
  NewDataDirectory& operator=(const NewDataDirectory&) = delete;

  // The restore completed: what it wrote stays.
  void keep() { kept_ = true; }

 private:
  std::string path_;
  bool kept_ = false;
};

}  // namespace obkeep::db
