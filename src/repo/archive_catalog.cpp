#include "repo/archive_catalog.hpp"

#include <algorithm>
#include <tuple>

#include "repo/archive_file.hpp"
#include "repo/repository.hpp"
#include "util/error.hpp"
#include "util/json_decode.hpp"

namespace obkeep::repo {

namespace {

constexpr int catalog_version = 1;
constexpr const char* catalog_kind = "catalog";
// Below this many names, reading them one by one costs less than the catalog.
constexpr size_t catalog_worth = 64;

bool by_key(const ArchiveEntry& a, const ArchiveEntry& b) {
  return std::tie(a.key.kind, a.key.stanza, a.key.file) < std::tie(b.key.kind, b.key.stanza, b.key.file);
}

std::optional<Id> catalog_name_among(const Repository& repository, const std::vector<Id>& names) {
  Id name = archive_entry_name(repository, archive_catalog_key());
  if (std::find(names.begin(), names.end(), name) == names.end()) return std::nullopt;
  return name;
}

}  // namespace

ArchiveKey archive_catalog_key() { return {catalog_kind, "archive", "entries"}; }

bool catalogued_kind(const std::string& kind) { return kind == "wal" || kind == "binlog"; }

Bytes encode_archive_catalog(std::vector<ArchiveEntry> entries) {
  std::sort(entries.begin(), entries.end(), by_key);
  std::string text = nlohmann::json{{"version", catalog_version}, {"entries", entries.size()}}.dump() + "\n";
  for (const ArchiveEntry& entry : entries) {
    nlohmann::json line = entry.to_json();
    line["entry"] = entry.name.hex();
    text += line.dump();
    text += '\n';
  }
  return Bytes(text.begin(), text.end());
}

std::unordered_map<Id, ArchiveEntry, IdHash> decode_archive_catalog(const Repository& repository, ByteView file) {
  std::string_view text(reinterpret_cast<const char*>(file.data()), file.size());
  std::unordered_map<Id, ArchiveEntry, IdHash> entries;
  size_t line_number = 0, expected = 0;
  while (!text.empty()) {
    size_t end = text.find('\n');
    if (end == std::string_view::npos) throw IntegrityError("archive catalog: line " + std::to_string(line_number + 1) + " is cut short");
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end + 1);
    std::string what = "archive catalog line " + std::to_string(++line_number);
    nlohmann::json json = parse_json(as_bytes(line), what);
    if (line_number == 1) {
      int version = json_integer_or<int>(json, "version", 0, what);
      if (version != catalog_version)
        throw IntegrityError("archive catalog has format version " + std::to_string(version) + ", this obkeep reads " +
                             std::to_string(catalog_version));
      expected = json_integer_or<size_t>(json, "entries", 0, what);
      continue;
    }
    if (!json.is_object() || !json.contains("entry") || !json["entry"].is_string()) throw IntegrityError(what + " names no entry");
    Id name;
    try {
      name = Id::from_hex(json["entry"].get<std::string>());
    } catch (const Error&) {
      throw IntegrityError(what + " names no entry");
    }
    ArchiveEntry entry = ArchiveEntry::from_json(json, name);
    // The line's name must be the one its key gives: a line cannot stand for another file.
    if (archive_entry_name(repository, entry.key) != name || !catalogued_kind(entry.key.kind))
      throw IntegrityError(what + " holds " + entry.key.describe() + " under another name");
    entries.emplace(name, std::move(entry));
  }
  if (line_number == 0) throw IntegrityError("archive catalog is empty");
  if (entries.size() != expected)
    throw IntegrityError("archive catalog holds " + std::to_string(entries.size()) + " entries, its header says " +
                         std::to_string(expected));
  return entries;
}

ArchiveRead read_archive(Repository& repository, const std::vector<Id>& names) {
  ArchiveRead read;
  read.entries.resize(names.size());
  std::vector<bool> found(names.size());
  bool catalog_read = false;
  std::optional<Id> catalog_name = catalog_name_among(repository, names);
  if (catalog_name && names.size() >= catalog_worth) {
    try {
      read.catalog = load_archive_entries(repository, {*catalog_name}).front();
      std::unordered_map<Id, ArchiveEntry, IdHash> catalog =
          decode_archive_catalog(repository, read_archived_file(repository, *read.catalog));
      read.catalog_size = catalog.size();
      for (size_t i = 0; i < names.size(); ++i) {
        if (names[i] == *catalog_name) {
          read.entries[i] = *read.catalog;
          found[i] = true;
          continue;
        }
        auto entry = catalog.find(names[i]);
        if (entry == catalog.end()) continue;
        read.entries[i] = std::move(entry->second);
        read.catalogued.insert(names[i]);
        found[i] = true;
      }
      catalog_read = true;
    } catch (const Error& e) {
      if (e.code() == ExitCode::interrupted) throw;
      // Its entries are read themselves (the catalog's own entry, if it loads, among them).
      read.catalogued.clear();
      read.catalog_size = 0;
      std::fill(found.begin(), found.end(), false);
    }
  }
  std::vector<Id> rest;
  std::vector<size_t> where;
  for (size_t i = 0; i < names.size(); ++i)
    if (!found[i]) {
      rest.push_back(names[i]);
      where.push_back(i);
    }
  std::vector<ArchiveEntry> loaded = load_archive_entries(repository, rest);
  for (size_t i = 0; i < loaded.size(); ++i) {
    if (catalog_name && loaded[i].name == *catalog_name) read.catalog = loaded[i];
    read.entries[where[i]] = std::move(loaded[i]);
  }
  read.catalog_unread = read.catalog && !catalog_read;
  return read;
}

std::optional<ArchiveEntry> update_archive_catalog(Repository& repository, const ArchiveRead& read,
                                                   const std::set<Id>& leaving, size_t batch) {
  std::vector<ArchiveEntry> kept;
  size_t missing = 0;
  bool must = false;
  for (const ArchiveEntry& entry : read.entries) {
    if (!catalogued_kind(entry.key.kind)) continue;
    bool in_catalog = read.catalogued.count(entry.name) > 0;
    if (leaving.count(entry.name)) {
      // A catalog whose file was not read may hold it.
      must = must || in_catalog || read.catalog_unread;
      continue;
    }
    if (!in_catalog) ++missing;
    kept.push_back(entry);
  }
  size_t unlisted = read.catalog_size - read.catalogued.size();
  bool worth = missing >= batch || (unlisted >= batch && unlisted >= read.catalog_size / 4);
  if (!must && !worth) return std::nullopt;
  // Unchanged chunks of the last catalog are found in the index and not stored again.
  if (repository.loaded_index_files().empty()) repository.load_index();
  ArchiveWriter writer(repository);
  writer.replace(archive_catalog_key(), encode_archive_catalog(std::move(kept)));
  writer.commit();
  return load_archive_entry(repository, archive_catalog_key());
}

std::vector<std::string> archive_catalog_disagreements(const Id& catalog_name,
                                                       const std::unordered_map<Id, ArchiveEntry, IdHash>& catalogued,
                                                       const std::vector<ArchiveEntry>& entries) {
  std::vector<std::string> found;
  for (const ArchiveEntry& entry : entries) {
    auto copy = catalogued.find(entry.name);
    if (copy != catalogued.end() && copy->second.to_json() != entry.to_json())
      found.push_back("archive catalog " + catalog_name.short_hex() + ": its copy of " + entry.key.describe() +
                      " differs from the entry " + entry.name.short_hex());
  }
  return found;
}

}  // namespace obkeep::repo
