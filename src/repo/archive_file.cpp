#include "repo/archive_file.hpp"

#include <algorithm>
#include <mutex>

#include "repo/repository.hpp"
#include "util/error.hpp"
#include "util/host.hpp"
#include "util/interrupt.hpp"
#include "util/parallel_tasks.hpp"
#include "util/thread_pool.hpp"

namespace obkeep::repo {

namespace {

// archive_command runs once per segment, one after another: the hashing and the encoding
// (compression, sealing) of a 16 MiB segment's pieces use every core.
unsigned encoding_threads() { return static_cast<unsigned>(ThreadPool::default_workers()); }

// The data blob ids of `data` as the dump chunker cuts it, with each piece.
std::vector<std::pair<Id, ByteView>> pieces_of(const Repository& repository, ByteView data) {
  std::vector<std::pair<Id, ByteView>> pieces;
  size_t offset = 0;
  while (offset < data.size()) {
    size_t length = repository.dump_chunker().next_chunk_length(data.data() + offset, data.size() - offset);
    pieces.emplace_back(Id{}, data.subspan(offset, length));
    offset += length;
  }
  run_parallel(pieces.size(), encoding_threads(), [&](size_t i) { pieces[i].first = repository.blob_id(pieces[i].second); });
  return pieces;
}

// Equal content cuts into equal pieces with equal ids: no need to read the archived file.
bool same_content(const ArchiveEntry& entry, const std::vector<std::pair<Id, ByteView>>& pieces, uint64_t size) {
  if (entry.size != size || entry.blobs.size() != pieces.size()) return false;
  for (size_t i = 0; i < pieces.size(); ++i)
    if (entry.blobs[i].id != pieces[i].first) return false;
  return true;
}

}  // namespace

ArchiveWriter::Added ArchiveWriter::add(const ArchiveKey& key, ByteView data, nlohmann::json meta) {
  std::vector<std::pair<Id, ByteView>> pieces = pieces_of(repository_, data);
  const ArchiveEntry* existing = nullptr;
  std::optional<ArchiveEntry> stored;
  for (const ArchiveEntry& entry : pending_)
    if (entry.key.kind == key.kind && entry.key.stanza == key.stanza && entry.key.file == key.file) existing = &entry;
  // One stat in the usual case (a new file); the entry is read only when it exists.
  if (!existing && archive_entry_exists(repository_, key)) {
    stored = load_archive_entry(repository_, key);
    if (stored) existing = &*stored;
  }
  if (existing) {
    if (same_content(*existing, pieces, data.size())) return Added::already_archived;
    throw Error(key.describe() + " is already archived with different content");
  }
  store(key, pieces, data.size(), std::move(meta));
  return Added::stored;
}

void ArchiveWriter::replace(const ArchiveKey& key, ByteView data, nlohmann::json meta) {
  store(key, pieces_of(repository_, data), data.size(), std::move(meta));
}

void ArchiveWriter::store(const ArchiveKey& key, const std::vector<std::pair<Id, ByteView>>& pieces, uint64_t size,
                          nlohmann::json meta) {
  ArchiveEntry entry;
  entry.key = key;
  entry.size = size;
  entry.meta = std::move(meta);
  run_parallel(pieces.size(), encoding_threads(),
               [&](size_t i) {
                 repository_.save_blob(BlobType::data, pieces[i].first, pieces[i].second, CompressionEffort::fast);
               });
  for (const auto& [id, piece] : pieces) entry.blobs.push_back({id, {}});
  pending_.push_back(std::move(entry));
}

void ArchiveWriter::commit() {
  repository_.flush();
  int64_t now = now_unix_nanos();
  for (ArchiveEntry& entry : pending_) {
    for (ArchivedBlob& blob : entry.blobs) blob.stored = repository_.locate(blob.id);
    entry.time_ns = now;
  }
  // Several at once on a remote store, where each save is a round trip.
  unsigned threads = static_cast<unsigned>(std::max<size_t>(1, 2 * repository_.backend().background_saves()));
  run_parallel(pending_.size(), threads, [&](size_t i) {
    throw_if_interrupted();
    save_archive_entry(repository_, pending_[i]);
  });
  pending_.clear();
}

Bytes read_archived_file(Repository& repository, const ArchiveEntry& entry) {
  std::vector<size_t> starts;
  size_t size = 0;
  for (const ArchivedBlob& blob : entry.blobs) {
    starts.push_back(size);
    size += blob.stored.raw_length;
  }
  Bytes data(size);
  // Several blobs at once on a remote store, where each read is a round trip.
  unsigned threads = static_cast<unsigned>(std::max<size_t>(1, repository.backend().background_saves()));
  run_parallel(entry.blobs.size(), threads, [&](size_t i) {
    const ArchivedBlob& blob = entry.blobs[i];
    std::span<uint8_t> out(data.data() + starts[i], blob.stored.raw_length);
    try {
      repository.load_blob_into(blob.id, blob.stored, out);
      return;
    } catch (const Error& e) {
      if (e.code() == ExitCode::interrupted) throw;
      // Only a pack that is gone means the blob moved; any other failure is the answer.
      if (repository.backend().stat({storage::FileType::pack, blob.stored.pack.hex()})) throw;
    }
    // Moved by prune: the index knows where it is now. One loader at a time: blobs and
    // files are read in parallel.
    static std::mutex index_loading;
    BlobLocation location;
    {
      std::lock_guard guard(index_loading);
      if (repository.loaded_index_files().empty()) repository.load_index();
      location = repository.locate(blob.id);
    }
    if (location.raw_length != blob.stored.raw_length)
      throw IntegrityError(entry.key.describe() + ": blob " + blob.id.hex() + " has another length in the index");
    repository.load_blob_into(blob.id, location, out);
  });
  return data;
}

}  // namespace obkeep::repo
