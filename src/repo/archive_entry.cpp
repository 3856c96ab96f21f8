#include "repo/archive_entry.hpp"

#include <algorithm>

#include "crypto/hash.hpp"
#include "repo/repository.hpp"
#include "util/host.hpp"
#include "util/json_decode.hpp"
#include "util/parallel_tasks.hpp"

namespace obkeep::repo {

using storage::FileType;

namespace {

constexpr int archive_entry_version = 1;

// Names use their own key, derived from the id key: an entry's name and a blob id can never
// be the same HMAC of the same bytes, and related repositories (one id key) give a file the
// same entry name, so a copy between them keeps names.
constexpr std::string_view name_key_label = "obkeep archive entry names v1";

Id parse_id(const nlohmann::json& value, const std::string& what) {
  if (!value.is_string()) throw IntegrityError(what + " is not a hex id");
  try {
    return Id::from_hex(value.get<std::string>());
  } catch (const Error&) {
    throw IntegrityError(what + " is not a hex id");
  }
}

}  // namespace

std::string ArchiveKey::describe() const {
  return (kind == "wal" ? std::string("WAL") : kind) + " file " + file + " (stanza " + stanza + ")";
}

nlohmann::json ArchiveEntry::to_json() const {
  nlohmann::json pieces = nlohmann::json::array();
  for (const ArchivedBlob& blob : blobs)
    pieces.push_back({{"id", blob.id.hex()},
                      {"pack", blob.stored.pack.hex()},
                      {"offset", blob.stored.offset},
                      {"stored_length", blob.stored.stored_length},
                      {"raw_length", blob.stored.raw_length}});
  nlohmann::json json = {{"version", archive_entry_version},
                         {"kind", key.kind},
                         {"stanza", key.stanza},
                         {"name", key.file},
                         {"size", size},
                         {"time", format_rfc3339(time_ns)},
                         {"blobs", pieces}};
  if (!meta.is_null()) json["meta"] = meta;
  return json;
}

ArchiveEntry ArchiveEntry::from_json(const nlohmann::json& json, const Id& name) {
  std::string what = "archive entry " + name.hex();
  if (!json.is_object()) throw IntegrityError(what + " is not a JSON object");
  int version = json_integer_or<int>(json, "version", 0, what);
  if (version != archive_entry_version)
    throw IntegrityError(what + " has format version " + std::to_string(version) + ", this obkeep reads " +
                         std::to_string(archive_entry_version));
  ArchiveEntry entry;
  entry.name = name;
  try {
    entry.key = {json.at("kind").get<std::string>(), json.at("stanza").get<std::string>(),
                 json.at("name").get<std::string>()};
    entry.size = json_integer<uint64_t>(json.at("size"), what + " size");
    entry.time_ns = parse_rfc3339(json.at("time").get<std::string>());
    const nlohmann::json& pieces = json.at("blobs");
    if (!pieces.is_array()) throw IntegrityError(what + " blobs is not a list");
    uint64_t total = 0;
    for (const nlohmann::json& piece : pieces) {
      ArchivedBlob blob;
      blob.id = parse_id(piece.at("id"), what + " blob id");
      blob.stored.pack = parse_id(piece.at("pack"), what + " pack id");
      blob.stored.offset = json_integer<uint32_t>(piece.at("offset"), what + " offset");
      blob.stored.stored_length = json_integer<uint32_t>(piece.at("stored_length"), what + " stored_length");
      blob.stored.raw_length = json_integer<uint32_t>(piece.at("raw_length"), what + " raw_length");
      blob.stored.type = BlobType::data;
      total += blob.stored.raw_length;
      entry.blobs.push_back(blob);
    }
    if (total != entry.size) throw IntegrityError(what + ": its blobs do not add up to its size");
    if (json.contains("meta")) {
      if (!json["meta"].is_object()) throw IntegrityError(what + " meta is not an object");
      entry.meta = json["meta"];
    }
  } catch (const IntegrityError&) {
    throw;
  } catch (const std::exception& error) {
    throw IntegrityError(what + ": " + error.what());
  }
  return entry;
}

ArchiveEntry decode_archive_entry(ByteView plaintext, const Id& name) {
  return ArchiveEntry::from_json(parse_json(plaintext, "archive entry " + name.hex()), name);
}

Id archive_entry_name(const Repository& repository, const ArchiveKey& key) {
  crypto::KeyedHash id_hash(repository.key().id_key);
  Id name_key = id_hash.id(as_bytes(name_key_label));
  crypto::KeyedHash name_hash(name_key.bytes);
  return name_hash.id(as_bytes(key.kind + "/" + key.stanza + "/" + key.file));
}

void save_archive_entry(Repository& repository, const ArchiveEntry& entry) {
  repository.save_named_object(FileType::archive, archive_entry_name(repository, entry.key), as_bytes(entry.to_json().dump()));
}

bool archive_entry_exists(Repository& repository, const ArchiveKey& key) {
  return repository.backend().stat({FileType::archive, archive_entry_name(repository, key).hex()}).has_value();
}

std::optional<ArchiveEntry> load_archive_entry(Repository& repository, const ArchiveKey& key) {
  Id name = archive_entry_name(repository, key);
  std::optional<Bytes> plaintext = repository.load_named_object(FileType::archive, name);
  if (!plaintext) return std::nullopt;
  ArchiveEntry entry = decode_archive_entry(*plaintext, name);
  // The seal binds the name, and the name the key: a mismatch is a writer's fault.
  if (entry.key.kind != key.kind || entry.key.stanza != key.stanza || entry.key.file != key.file)
    throw IntegrityError("archive entry " + name.hex() + " is for " + entry.key.describe() + ", not " + key.describe());
  return entry;
}

std::vector<Id> list_archive_entries(Repository& repository) {
  std::vector<Id> names;
  repository.backend().list(FileType::archive, [&](const std::string& name, uint64_t) { names.push_back(Id::from_hex(name)); });
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<ArchiveEntry> load_archive_entries(Repository& repository, const std::vector<Id>& names) {
  std::vector<ArchiveEntry> entries(names.size());
  // At least a few at once: there may be hundreds of thousands.
  unsigned threads = static_cast<unsigned>(std::max<size_t>(4, 2 * repository.backend().background_saves()));
  run_parallel(names.size(), threads, [&](size_t i) {
    std::optional<Bytes> plaintext = repository.load_named_object(FileType::archive, names[i]);
    if (!plaintext) throw IntegrityError("archive entry " + names[i].hex() + " disappeared while it was read");
    entries[i] = decode_archive_entry(*plaintext, names[i]);
  });
  return entries;
}

}  // namespace obkeep::repo
