#include "repo/journal.hpp"

#include <algorithm>

#include "repo/repository.hpp"
#include "util/host.hpp"
#include "util/json_decode.hpp"

namespace obkeep::repo {

namespace {

constexpr int journal_version = 1;

}  // namespace

nlohmann::json JournalEntry::to_json() const {
  return {{"version", journal_version},
          {"kind", kind},
          {"time", format_rfc3339(time_ns)},
          {"site", site ? nlohmann::json(*site) : nlohmann::json(nullptr)},
          {"hostname", hostname},
          {"details", details}};
}

Id append_journal(Repository& repository, const JournalEntry& entry) {
  return repository.save_object(storage::FileType::journal, as_bytes(entry.to_json().dump()));
}

std::vector<JournalEntry> read_journal(Repository& repository, std::map<std::string, JournalEntry>* cache) {
  std::map<std::string, JournalEntry> local;
  if (!cache) cache = &local;
  std::vector<std::string> names, fresh;
  repository.backend().list(storage::FileType::journal, [&](const std::string& name, uint64_t) { names.push_back(name); });
  std::sort(names.begin(), names.end());
  for (const std::string& name : names)
    if (!cache->count(name)) fresh.push_back(name);
  std::vector<Bytes> texts = repository.load_objects(storage::FileType::journal, fresh);
  for (size_t i = 0; i < fresh.size(); ++i) {
    std::string what = "journal entry " + fresh[i];
    nlohmann::json json = parse_json(texts[i], what);
    JournalEntry entry;
    entry.id = Id::from_hex(fresh[i]);
    if (!json.is_object() || json.value("version", 0) != journal_version) {
      entry.kind = "";  // a newer format: remembered, so as not to fetch it again, and skipped
    } else {
      try {
        entry.kind = json.at("kind").get<std::string>();
        entry.time_ns = parse_rfc3339(json.at("time").get<std::string>());
        if (json.contains("site") && json["site"].is_string()) entry.site = json["site"].get<std::string>();
        entry.hostname = json.value("hostname", "");
        if (json.contains("details") && json["details"].is_object()) entry.details = json["details"];
      } catch (const std::exception& error) {
        throw IntegrityError(what + ": " + error.what());
      }
    }
    cache->emplace(fresh[i], std::move(entry));
  }
  std::erase_if(*cache, [&](const auto& item) { return !std::binary_search(names.begin(), names.end(), item.first); });
  std::vector<JournalEntry> entries;
  for (const auto& [name, entry] : *cache)
    if (!entry.kind.empty()) entries.push_back(entry);
  std::sort(entries.begin(), entries.end(), [](const JournalEntry& a, const JournalEntry& b) {
    return a.time_ns != b.time_ns ? a.time_ns < b.time_ns : a.id < b.id;
  });
  return entries;
}

const JournalEntry* newest_entry(const std::vector<JournalEntry>& journal, const std::string& kind,
                                 const std::optional<std::string>& site) {
  for (auto it = journal.rbegin(); it != journal.rend(); ++it)
    if (it->kind == kind && it->site == site) return &*it;
  return nullptr;
}

}  // namespace obkeep::repo
