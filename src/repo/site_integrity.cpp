// Sorting what the primary sent to a site into present, altered, gone by keep rules, missing.
#include "repo/site_integrity.hpp"

#include <unordered_set>

#include "repo/archive_entry.hpp"
#include "util/host.hpp"

namespace obkeep::repo {

namespace {

// Site snapshot ids that the keep rules of their set would forget, over everything known
// to have been at the site.
std::unordered_set<Id, IdHash> forgotten_by_keep_rules(const std::vector<SentSnapshot>& recorded,
                                                       const SnapshotSurvey& site,
                                                       const std::map<std::string, KeepRules>& keep_rules) {
  std::unordered_set<Id, IdHash> forgotten;
  for (const auto& [set, rules] : keep_rules) {
    if (rules.empty()) continue;
    std::vector<Snapshot> known;
    std::unordered_set<Id, IdHash> seen;
    for (const SentSnapshot& sent : recorded)
      if (sent.as_snapshot().tag_value("set") == set && seen.insert(sent.site_snapshot).second)
        known.push_back(sent.as_snapshot());
    for (const Snapshot& present : site.readable)
      if (present.tag_value("set") == set && seen.insert(present.id).second) known.push_back(present);
    for (const ForgetDecision& decision : apply_keep_rules(known, rules))
      if (!decision.keep) forgotten.insert(decision.snapshot.id);
  }
  return forgotten;
}

}  // namespace

SiteIntegrity compare_with_record(const std::vector<SentSnapshot>& recorded, const SnapshotSurvey& site,
                                  const std::map<std::string, KeepRules>& keep_rules) {
  SiteIntegrity integrity;
  std::unordered_set<Id, IdHash> readable;
  for (const Snapshot& snapshot : site.readable) readable.insert(snapshot.id);
  std::unordered_set<Id, IdHash> forgotten = forgotten_by_keep_rules(recorded, site, keep_rules);
  for (const SentSnapshot& sent : recorded) {
    integrity.recorded++;
    if (readable.contains(sent.site_snapshot)) {
      integrity.present++;
    } else if (auto damaged = site.damaged.find(sent.site_snapshot); damaged != site.damaged.end()) {
      integrity.altered.push_back({sent, damaged->second});
    } else if (forgotten.contains(sent.site_snapshot)) {
      integrity.gone_by_keep_rules++;
    } else {
      integrity.missing.push_back({sent, ""});
    }
  }
  return integrity;
}

void compare_archive_ends(const std::vector<SentArchiveEnd>& recorded, Repository& site, SiteIntegrity& integrity) {
  for (const SentArchiveEnd& end : recorded) {
    integrity.archive_ends++;
    if (!archive_entry_exists(site, end.key)) integrity.archive_missing.push_back(end);
  }
}

std::string describe_time(int64_t unix_ns) {
  std::string time = format_rfc3339(unix_ns).substr(0, 19);
  time[10] = ' ';
  return time + " UTC";
}

std::string describe_sent(const SentSnapshot& snapshot) {
  std::string text = "snapshot " + snapshot.site_snapshot.short_hex();
  if (snapshot.original != snapshot.site_snapshot) text += " (primary " + snapshot.original.short_hex() + ")";
  text += " of " + describe_time(snapshot.time_ns);
  std::string tags;
  for (const std::string& tag : snapshot.tags) tags += (tags.empty() ? "" : " ") + tag;
  if (!tags.empty()) text += ", " + tags;
  return text;
}

}  // namespace obkeep::repo
