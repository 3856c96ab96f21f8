// The directory a physical restore writes a server's files into.
#pragma once

#include <string>

namespace obkeep::db {

// Creates `path` (mode 0700) or accepts it empty; throws Error when it holds anything:
// a physical restore never mixes its files with others.
void make_new_data_directory(const std::string& path);

}  // namespace obkeep::db
