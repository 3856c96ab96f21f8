// Differences between two snapshot trees.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "repo/repository.hpp"

namespace obkeep::repo {

struct TreeChange {
  char kind;  // '+' added, '-' removed, 'M' content changed, 'U' metadata only, 'T' type changed
  std::string path;
};

// Walks both trees in name order; unchanged subtrees (same id) are skipped without loading.
std::vector<TreeChange> diff_trees(Repository& repository, const std::optional<Id>& before,
                                   const std::optional<Id>& after, const std::string& path = "");

}  // namespace obkeep::repo
