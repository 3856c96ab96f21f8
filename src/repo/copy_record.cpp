// Copy records: encoding, loading, and the log one copy run keeps of what it sent.
#include "repo/copy_record.hpp"

#include <algorithm>
#include <map>
#include <unordered_map>

#include "repo/repository.hpp"
#include "util/error.hpp"
#include "util/host.hpp"
#include "util/json_decode.hpp"

namespace obkeep::repo {

using nlohmann::json;
using storage::FileType;

Snapshot SentSnapshot::as_snapshot() const {
  Snapshot snapshot;
  snapshot.id = site_snapshot;
  snapshot.original = original;
  snapshot.time_ns = time_ns;
  snapshot.hostname = hostname;
  snapshot.paths = paths;
  snapshot.tags = tags;
  return snapshot;
}

std::string SentArchiveEnd::describe() const {
  std::string time = format_rfc3339(archived_ns).substr(0, 19);
  time[10] = ' ';
  return key.describe() + ", archived " + time + " UTC";
}

json CopyRecord::to_json() const {
  json sent = json::array();
  for (const SentSnapshot& snapshot : snapshots)
    sent.push_back({{"snapshot", snapshot.site_snapshot.hex()},
                    {"original", snapshot.original.hex()},
                    {"time", format_rfc3339(snapshot.time_ns)},
                    {"hostname", snapshot.hostname},
                    {"paths", snapshot.paths},
                    {"tags", snapshot.tags}});
  json out = {{"version", 1},
              {"site", site},
              {"site_repository", site_repository},
              {"time", format_rfc3339(copied_ns)},
              {"hostname", hostname},
              {"snapshots", sent}};
  if (!archive_ends.empty()) {
    json ends = json::array();
    for (const SentArchiveEnd& end : archive_ends)
      ends.push_back({{"kind", end.key.kind}, {"stanza", end.key.stanza}, {"file", end.key.file},
                      {"time", format_rfc3339(end.archived_ns)}});
    out["archive_ends"] = ends;
  }
  return out;
}

CopyRecord CopyRecord::from_json(const json& in, const Id& id) {
  CopyRecord record;
  record.id = id;
  try {
    if (in.at("version").get<int>() != 1)
      throw IntegrityError("copy record " + id.hex() + " has version " + in.at("version").dump() + ", this obkeep reads 1");
    record.site = in.at("site").get<std::string>();
    record.site_repository = in.at("site_repository").get<std::string>();
    record.copied_ns = parse_rfc3339(in.at("time").get<std::string>());
    record.hostname = in.value("hostname", "");
    for (const json& entry : in.at("snapshots")) {
      SentSnapshot snapshot;
      snapshot.site_snapshot = Id::from_hex(entry.at("snapshot").get<std::string>());
      snapshot.original = Id::from_hex(entry.at("original").get<std::string>());
      snapshot.time_ns = parse_rfc3339(entry.at("time").get<std::string>());
      snapshot.hostname = entry.value("hostname", "");
      snapshot.paths = entry.value("paths", std::vector<std::string>{});
      snapshot.tags = entry.value("tags", std::vector<std::string>{});
      snapshot.copied_ns = record.copied_ns;
      record.snapshots.push_back(std::move(snapshot));
    }
    if (in.contains("archive_ends"))
      for (const json& entry : in.at("archive_ends")) {
        SentArchiveEnd end;
        end.key = {entry.at("kind").get<std::string>(), entry.at("stanza").get<std::string>(), entry.at("file").get<std::string>()};
        end.archived_ns = parse_rfc3339(entry.at("time").get<std::string>());
        end.copied_ns = record.copied_ns;
        record.archive_ends.push_back(std::move(end));
      }
  } catch (const json::exception& e) {
    throw IntegrityError("copy record " + id.hex() + " is malformed: " + e.what());
  } catch (const IntegrityError&) {
    throw;
  } catch (const Error& e) {  // a bad id or time
    throw IntegrityError("copy record " + id.hex() + " is malformed: " + e.what());
  }
  return record;
}

Id save_copy_record(Repository& primary, const CopyRecord& record) {
  return primary.save_object(FileType::copy_record, as_bytes(record.to_json().dump()));
}

std::vector<CopyRecord> load_copy_records(Repository& primary) {
  std::vector<std::string> names;
  primary.backend().list(FileType::copy_record, [&](const std::string& name, uint64_t) { names.push_back(name); });
  std::vector<Bytes> texts = primary.load_objects(FileType::copy_record, names);
  std::vector<CopyRecord> records;
  for (size_t i = 0; i < names.size(); ++i) {
    Id id = Id::from_hex(names[i]);
    records.push_back(CopyRecord::from_json(parse_json(texts[i], "copy record " + names[i]), id));
  }
  std::sort(records.begin(), records.end(), [](const CopyRecord& a, const CopyRecord& b) {
    return a.copied_ns != b.copied_ns ? a.copied_ns < b.copied_ns : a.id < b.id;
  });
  return records;
}

std::vector<SentSnapshot> sent_to(const std::vector<CopyRecord>& records, const std::string& site_repository) {
  std::vector<SentSnapshot> sent;
  std::unordered_map<Id, size_t, IdHash> place;  // a snapshot's original id → its place in `sent`
  for (const CopyRecord& record : records) {
    if (record.site_repository != site_repository) continue;
    for (const SentSnapshot& snapshot : record.snapshots) {
      auto [slot, fresh] = place.try_emplace(snapshot.original, sent.size());
      if (fresh)
        sent.push_back(snapshot);
      else
        sent[slot->second] = snapshot;  // sent again (copy found it gone): the new copy is what the site holds
    }
  }
  return sent;
}

std::vector<SentArchiveEnd> archive_ends_sent_to(const std::vector<CopyRecord>& records, const std::string& site_repository) {
  std::map<std::pair<std::string, std::string>, SentArchiveEnd> newest;
  for (const CopyRecord& record : records) {
    if (record.site_repository != site_repository) continue;
    for (const SentArchiveEnd& end : record.archive_ends) {
      auto [slot, fresh] = newest.try_emplace({end.key.kind, end.key.stanza}, end);
      if (!fresh && slot->second.archived_ns < end.archived_ns) slot->second = end;
    }
  }
  std::vector<SentArchiveEnd> ends;
  for (auto& [archive, end] : newest) ends.push_back(std::move(end));
  return ends;
}

CopyLog::CopyLog(Repository& primary, Repository& site, std::string site_name) : primary_(primary) {
  record_.site = std::move(site_name);
  record_.site_repository = site.config().id.hex();
  record_.hostname = hostname();
  for (const SentSnapshot& snapshot : sent_to(load_copy_records(primary), record_.site_repository))
    recorded_.insert(snapshot.site_snapshot);
}

void CopyLog::note(const Snapshot& sent, const Id& site_snapshot) {
  if (!recorded_.insert(site_snapshot).second) return;
  record_.snapshots.push_back({site_snapshot, sent.original.value_or(sent.id), sent.time_ns, sent.hostname, sent.paths,
                               sent.tags, 0});
}

void CopyLog::note_archive_entry(const ArchiveEntry& entry) {
  for (SentArchiveEnd& end : record_.archive_ends)
    if (end.key.kind == entry.key.kind && end.key.stanza == entry.key.stanza) {
      if (end.archived_ns < entry.time_ns) end = {entry.key, entry.time_ns, 0};
      return;
    }
  record_.archive_ends.push_back({entry.key, entry.time_ns, 0});
}

size_t CopyLog::save() {
  if (record_.snapshots.empty() && record_.archive_ends.empty()) return 0;
  record_.copied_ns = now_unix_nanos();
  save_copy_record(primary_, record_);
  size_t saved = record_.snapshots.size();
  // A second save records only what is noted after the first.
  record_.snapshots.clear();
  record_.archive_ends.clear();
  return saved;
}

}  // namespace obkeep::repo
