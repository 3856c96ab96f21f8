// Archive entries: one sealed object for each file archived by name (a PostgreSQL WAL
// segment; later a MariaDB binlog), under a name the client computes from what the file
// is, so that storing or finding one costs a request or two however large the archive.
// See docs/repository-format.md, "Archive entries".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "repo/index.hpp"
#include "util/bytes.hpp"
#include "util/id.hpp"

namespace obkeep::repo {

class Repository;

// What a file is: its kind ("wal"), the archive it belongs to (a stanza: one a cluster),
// and its own name ("000000010000000000000003").
struct ArchiveKey {
  std::string kind;
  std::string stanza;
  std::string file;

  std::string describe() const;  // "WAL file 0000…03 (stanza main)", for messages
};

// One piece of the file's content: the data blob, and where it was stored when the entry
// was written. The place is a hint that spares a reader the index; prune may move the
// blob, and the index then says where it is.
struct ArchivedBlob {
  Id id;
  BlobLocation stored;
};

struct ArchiveEntry {
  Id name;  // storage name (archive_entry_name of the key); not part of the JSON
  ArchiveKey key;
  uint64_t size = 0;    // bytes of the file
  int64_t time_ns = 0;  // when it was archived
  std::vector<ArchivedBlob> blobs;  // in order: their plaintexts concatenated are the file
  nlohmann::json meta;  // what the kind records about the file (a binlog piece's range), or null

  nlohmann::json to_json() const;
  // The entry without `meta`: what reading the file needs, once the meta was read.
  ArchiveEntry without_meta() const { return {name, key, size, time_ns, blobs, nullptr}; }
  // Throws IntegrityError naming the entry when the JSON is not an entry of a known version.
  static ArchiveEntry from_json(const nlohmann::json& json, const Id& name);
};

// Decodes an entry's plaintext (JSON) stored under `name`; IntegrityError naming it.
ArchiveEntry decode_archive_entry(ByteView plaintext, const Id& name);

// HMAC-SHA-256, under a key derived from the repository's id key, of "<kind>/<stanza>/<file>":
// computable by any holder of the key, meaningless to the store.
Id archive_entry_name(const Repository& repository, const ArchiveKey& key);

// Saves the entry under archive_entry_name(entry.key), replacing one of that name.
void save_archive_entry(Repository& repository, const ArchiveEntry& entry);
// One existence check (stat).
bool archive_entry_exists(Repository& repository, const ArchiveKey& key);
// The entry of `key`, or nullopt when there is none. IntegrityError when it is damaged or
// names another file than its name says.
std::optional<ArchiveEntry> load_archive_entry(Repository& repository, const ArchiveKey& key);
// Names of every entry (none in a repository made before them).
std::vector<Id> list_archive_entries(Repository& repository);
// Every entry, in the order of `names` (several at once from a remote store). Throws
// IntegrityError naming the first entry that cannot be read.
std::vector<ArchiveEntry> load_archive_entries(Repository& repository, const std::vector<Id>& names);

}  // namespace obkeep::repo
