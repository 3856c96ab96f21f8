// Drift: how a live directory differs from its copy in a snapshot.
#pragma once

#include <string>
#include <vector>

#include "repo/node.hpp"
#include "repo/repository.hpp"
#include "repo/tree_diff.hpp"

namespace obkeep::archiver {

// Compares the live tree at `path` with `saved` (a directory node of a snapshot). Files
// count as modified when their size or mtime differ (as an incremental backup would
// judge them), 'U' when only mode or owner changed. Entries matching `excludes` (glob on
// the full path, or on the name when the pattern has no '/') are skipped on both sides.
std::vector<repo::TreeChange> diff_live(repo::Repository& repository, const repo::Node& saved, const std::string& path,
                                        const std::vector<std::string>& excludes);

}  // namespace obkeep::archiver
