// Files in the archive: their bytes stored as data blobs (cut by the dump chunker, so a file
// deduplicates with itself; sealed and packed like everything else), then one entry each.
// See docs/repository-format.md, "Archive entries".
#pragma once

#include <string>
#include <vector>

#include "repo/archive_entry.hpp"
#include "util/bytes.hpp"

namespace obkeep::repo {

class Repository;

// Adds files, then commits them together: one flush (the packs and one index file) for
// all, then the entries. An entry is written only once every blob it names is durable and
// indexed, so a crash leaves at most unreferenced packs, which prune removes. The caller
// holds a lock on the repository; the index need not be loaded (without it every blob is
// stored, even one the repository has: a WAL file rarely repeats another's content).
class ArchiveWriter {
 public:
  explicit ArchiveWriter(Repository& repository) : repository_(repository) {}

  enum class Added { stored, already_archived };
  // Stores `data` as the file `key` (the entry is written by commit()), or finds it archived
  // with the same content already (PostgreSQL pushes a file again after a crash). Throws
  // Error when it is archived with other content: the server must keep its file and an
  // operator look.
  // `meta` is recorded in the entry (ArchiveEntry::meta).
  Added add(const ArchiveKey& key, ByteView data, nlohmann::json meta = nullptr);
  // Stores `data` as the file `key` whatever is archived under that name now: commit()
  // replaces the entry. Only for an entry that is rewritten as it changes (the archive
  // catalog), by a holder of the exclusive lock.
  void replace(const ArchiveKey& key, ByteView data, nlohmann::json meta = nullptr);
  // Flushes, then writes the entries of every file added since the last commit.
  void commit();

 private:
  void store(const ArchiveKey& key, const std::vector<std::pair<Id, ByteView>>& pieces, uint64_t size, nlohmann::json meta);

  Repository& repository_;
  std::vector<ArchiveEntry> pending_;
};

// The file's bytes. A blob is read where the entry says it was stored; when its pack is gone
// (prune repacked it), the index is loaded (once) and says where it is now. Throws
// IntegrityError when a blob is missing or damaged, Error when the store fails.
Bytes read_archived_file(Repository& repository, const ArchiveEntry& entry);

}  // namespace obkeep::repo
