// Finding snapshots by their tags ("set=databases", "home=/opt/…"): what status, drills
// and the daemon ask of a snapshot list.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "repo/snapshot.hpp"

namespace obkeep::repo {

inline bool has_all_tags(const Snapshot& snapshot, const std::vector<std::string>& tags) {
  return std::all_of(tags.begin(), tags.end(), [&](const std::string& tag) { return snapshot.has_tag(tag); });
}

// The newest snapshot holding every tag, in a list sorted oldest first; nullptr if none.
inline const Snapshot* newest_with_tags(const std::vector<Snapshot>& snapshots, const std::vector<std::string>& tags) {
  for (auto it = snapshots.rbegin(); it != snapshots.rend(); ++it)
    if (has_all_tags(*it, tags)) return &*it;
  return nullptr;
}

}  // namespace obkeep::repo
