// The operations journal: what happened to a deployment's repositories that snapshots do
// not show — drills, verifications, prunes. One small sealed object per event, never
// rewritten (so it works on append-only and object-locked stores), kept in the primary
// repository. A daemon's schedule reads it, so a restart, or a second machine keeping the
// same policy, knows what was done; `status` reads the last drill from it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/id.hpp"

namespace obkeep::repo {

class Repository;

struct JournalEntry {
  Id id;                            // storage id, set when read
  std::string kind;                 // "drill", "verify", "prune"
  int64_t time_ns = 0;              // when it ended
  std::optional<std::string> site;  // the DR site it was about; nullopt: the primary
  std::string hostname;
  nlohmann::json details = nlohmann::json::object();  // what the kind reports

  nlohmann::json to_json() const;  // without id
};

Id append_journal(Repository& repository, const JournalEntry& entry);

// Every entry, oldest first. Entries of a format this version does not know are skipped
// (a newer obkeep wrote them); damaged ones are errors naming the object. With `cache`
// (entries by name, kept by the caller between calls), only new entries are fetched:
// stored objects never change.
std::vector<JournalEntry> read_journal(Repository& repository, std::map<std::string, JournalEntry>* cache = nullptr);

// The newest entry of `kind` about `site`, if any.
const JournalEntry* newest_entry(const std::vector<JournalEntry>& journal, const std::string& kind,
                                 const std::optional<std::string>& site);

}  // namespace obkeep::repo
