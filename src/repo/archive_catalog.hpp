// The archive catalog: one archive entry (kind "catalog") whose file holds a copy of every
// write-once entry (WAL files, binlog pieces) as it was when the catalog was written, so
// that reading the whole archive — forget, prune, a first copy to a site, archive-ls — is
// a listing and a few reads, not a read per entry (a busy cluster archives 500,000 WAL
// files a year). The listing stays the truth: a catalogued entry counts only while its
// own object is listed. See docs/repository-format.md, "Archive catalog".
#pragma once

#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "repo/archive_entry.hpp"
#include "util/id.hpp"

namespace obkeep::repo {

class Repository;

// {"catalog", "archive", "entries"}: its name is the same in related repositories.
ArchiveKey archive_catalog_key();
// Kinds whose entries are never rewritten once saved (only removed, by forget): the ones a
// catalog may hold. A binlog epoch's marker is rewritten (forgotten) and is always read itself.
bool catalogued_kind(const std::string& kind);

// The catalog's file: a header line, then one entry a line (its JSON with its name as
// "entry"), sorted by kind, stanza and file so that successive catalogs share their chunks.
Bytes encode_archive_catalog(std::vector<ArchiveEntry> entries);
// Its entries by name. IntegrityError naming the line at fault, or an entry whose name is
// not the one its kind, stanza and file give.
std::unordered_map<Id, ArchiveEntry, IdHash> decode_archive_catalog(const Repository& repository, ByteView file);

// The entries of the archive, as listed.
struct ArchiveRead {
  std::vector<ArchiveEntry> entries;            // in the order of the names asked for
  std::set<Id> catalogued;                      // of those, the ones taken from the catalog
  size_t catalog_size = 0;                      // entries the catalog holds, listed or not
  std::optional<ArchiveEntry> catalog;          // the catalog's own entry, when listed
  bool catalog_unread = false;                  // listed, but its file not read (few names, or damaged)
};

// Every entry of `names` (from list_archive_entries): from the catalog those it holds, the
// rest read one by one (several at once). A catalog that cannot be read is passed over:
// its entries are read themselves (check reports it). Throws IntegrityError naming the
// first entry that cannot be read.
ArchiveRead read_archive(Repository& repository, const std::vector<Id>& names);

// Writes a new catalog of `read`'s write-once entries, less `leaving` (entries about to be
// removed), when the stored one lacks at least `batch` of them, or holds an entry that is
// leaving — which must be out of the catalog before it is removed, or a file archived again
// under that name later would be read from the catalog's old copy — or holds many entries
// no longer listed. The caller holds the exclusive lock. Returns the new catalog's entry
// (its blobs are in use from now on), or nullopt when the stored one stays.
std::optional<ArchiveEntry> update_archive_catalog(Repository& repository, const ArchiveRead& read,
                                                   const std::set<Id>& leaving = {}, size_t batch = 256);

// For check: each entry of `entries` (read one by one) whose copy in the catalog differs.
std::vector<std::string> archive_catalog_disagreements(const Id& catalog_name,
                                                       const std::unordered_map<Id, ArchiveEntry, IdHash>& catalogued,
                                                       const std::vector<ArchiveEntry>& entries);

}  // namespace obkeep::repo
