// Exclude patterns, shared by the backup walker and the in-place restore (which keeps the
// current copies of what a snapshot deliberately left out).
#pragma once

#include <string>
#include <vector>

namespace obkeep::archiver {

// Glob patterns (fnmatch): a pattern with "/" matches the full path, else the entry's name.
bool is_excluded(const std::vector<std::string>& patterns, const std::string& path, const std::string& name);

}  // namespace obkeep::archiver
