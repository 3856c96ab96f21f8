// Every snapshot object of a repository, read so that a damaged one is named rather than
// ending the listing: what `check --site` and `status` compare with the copy records.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "repo/snapshot.hpp"

namespace obkeep::repo {

struct SnapshotSurvey {
  std::vector<Snapshot> readable;     // oldest first
  std::map<Id, std::string> damaged;  // id → why it cannot be read (altered, not decryptable)

  bool holds(const Id& id) const;  // readable or damaged: the name is there
};

// Errors other than damage (the store cannot be reached) are thrown.
SnapshotSurvey survey_snapshots(Repository& repository);

}  // namespace obkeep::repo
