#include "archiver/exclude.hpp"

#include <fnmatch.h>

namespace obkeep::archiver {

bool is_excluded(const std::vector<std::string>& patterns, const std::string& path, const std::string& name) {
  for (const std::string& pattern : patterns) {
    const std::string& subject = pattern.find('/') != std::string::npos ? path : name;
    if (::fnmatch(pattern.c_str(), subject.c_str(), 0) == 0) return true;
  }
  return false;
}

}  // namespace obkeep::archiver
