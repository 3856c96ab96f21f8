// Copy records: what the primary sent to a DR site, one sealed object a copy run under
// copies/, so that `check --site` and `status` can tell what the site should still hold.
// See docs/repository-format.md, "Copy records".
#pragma once

#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "repo/archive_entry.hpp"
#include "repo/snapshot.hpp"
#include "util/id.hpp"

namespace obkeep::repo {

class Repository;

// One snapshot as a site received it.
struct SentSnapshot {
  Id site_snapshot;  // its id at the site: the SHA-256 of the object stored there
  Id original;       // its id in the repository it was first made in
  int64_t time_ns = 0;
  std::string hostname;
  std::vector<std::string> paths;
  std::vector<std::string> tags;
  int64_t copied_ns = 0;  // the time of the record that names it

  // The snapshot as keep rules see it (host, paths, tags, time), under its id at the site.
  Snapshot as_snapshot() const;
};

// The newest entry of one archive (a WAL stanza, a database's binlog) that a copy run put
// at the site. Retention never removes an archive's newest entry, so an audit that finds it
// gone has found the archive cut short; holes inside are what the site's own check finds.
// One per archive, however many entries it holds.
struct SentArchiveEnd {
  ArchiveKey key;
  int64_t archived_ns = 0;  // the entry's time
  int64_t copied_ns = 0;    // the time of the record that names it

  std::string describe() const;  // "WAL file 0000…05 (stanza main), archived 2026-11-25 05:04:36 UTC"
};

struct CopyRecord {
  Id id;                        // storage id; not part of the JSON
  std::string site;             // the [[dr_site]] name, or the destination's URL (copy --from-repo)
  std::string site_repository;  // the site repository's id (its config), hex
  int64_t copied_ns = 0;
  std::string hostname;
  std::vector<SentSnapshot> snapshots;
  std::vector<SentArchiveEnd> archive_ends;  // absent from records made before them

  nlohmann::json to_json() const;  // without id
  static CopyRecord from_json(const nlohmann::json& json, const Id& id);
};

Id save_copy_record(Repository& primary, const CopyRecord& record);
// Every copy record of the primary, oldest first (none in a repository made before them).
// Throws IntegrityError naming a record that cannot be read.
std::vector<CopyRecord> load_copy_records(Repository& primary);
// The snapshots recorded as sent to the site repository of that id, each once, in the
// order first recorded; one sent again (a copy found it gone from the site and sent it
// anew, under a new id there: its object is sealed afresh) as last sent.
std::vector<SentSnapshot> sent_to(const std::vector<CopyRecord>& records, const std::string& site_repository);
// Per archive (kind and stanza), the newest end recorded as sent to that site repository.
std::vector<SentArchiveEnd> archive_ends_sent_to(const std::vector<CopyRecord>& records, const std::string& site_repository);

// What one copy run puts at a site, saved as one record at the end of the run. Snapshots
// the site already held that no earlier record names (copied before records existed, or
// by a run cut before its record) are noted too, so one run makes the record whole.
class CopyLog {
 public:
  // Reads the primary's records; the caller holds a lock on each repository.
  CopyLog(Repository& primary, Repository& site, std::string site_name);

  void note(const Snapshot& sent, const Id& site_snapshot);
  // An archive entry the run put at the site; the record keeps the newest of each archive.
  void note_archive_entry(const ArchiveEntry& entry);
  // Saves the record unless nothing new was noted. Returns the number of snapshots it names.
  size_t save();

 private:
  Repository& primary_;
  CopyRecord record_;
  std::unordered_set<Id, IdHash> recorded_;  // site snapshot ids an earlier record names
};

}  // namespace obkeep::repo
