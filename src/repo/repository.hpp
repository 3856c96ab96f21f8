// The Repository facade: keys, config, blobs in packs, the index and sealed objects.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "chunker/chunker.hpp"
#include "crypto/hash.hpp"
#include "crypto/kdf.hpp"
#include "repo/index.hpp"
#include "repo/master_key.hpp"
#include "repo/repository_config.hpp"
#include "storage/backend.hpp"
#include "util/error.hpp"
#include "util/large_buffer.hpp"
#include "util/thread_pool.hpp"

namespace obkeep::repo {

struct InitOptions {
  crypto::ScryptParams scrypt;
  std::optional<ChunkerParams> chunker;  // copy another repository's to deduplicate with it
  std::optional<ChunkerParams> dump_chunker;
  int version = format_version;  // tests make format-1 repositories
  // Another repository's id key: the two then give equal content equal blob ids, and
  // copies between them send only what the destination lacks (init --copy-params-from).
  std::optional<crypto::Key256> id_key;
};

struct SaveStatistics {
  std::atomic<uint64_t> blobs_added{0};
  std::atomic<uint64_t> bytes_added{0};     // plaintext bytes of new blobs
  std::atomic<uint64_t> bytes_stored{0};    // bytes written to packs
  std::atomic<uint64_t> packs_written{0};
};

class Repository;
// The options that make a new repository related to `source` (init --copy-params-from):
// its chunking and blob id key, so that copies between the two send only what is missing.
InitOptions copy_params_of(const Repository& source);

class Repository {
 public:
  // Creates a repository; the backend must be empty or absent.
  static void init(storage::Backend& backend, std::string_view password, const InitOptions& options);
  // Opens with `password`: Error(no_repository) when there is none, Error(wrong_password).
  static std::unique_ptr<Repository> open(std::unique_ptr<storage::Backend> backend, std::string_view password);
  // open(), or, when the store holds no repository, init() with `options()` (asked for only
  // then) and the new one returned (its key and config as written: nothing read back, one
  // connection). `created` (when given) says which.
  static std::unique_ptr<Repository> open_or_create(std::unique_ptr<storage::Backend> backend, std::string_view password,
                                                    const std::function<InitOptions()>& options, bool* created = nullptr);

  storage::Backend& backend() { return *backend_; }
  const RepositoryConfig& config() const { return config_; }
  const MasterKey& key() const { return key_; }
  const std::string& opened_key_id() const { return opened_key_id_; }
  const Chunker& chunker() const { return chunker_; }
  const Chunker& dump_chunker() const { return dump_chunker_; }
  Index& index() { return index_; }
  SaveStatistics& statistics() { return statistics_; }

  // Reads of up to a pack each to run side by side, each verified while the others wait
  // for the store: one per core, and from a far store as many as its connections, at most
  // eight (each read is held whole while it is verified, ~16 MiB).
  unsigned whole_pack_readers();

  Id blob_id(ByteView plaintext) const { return id_hash_->id(plaintext); }
  BlobSealing blob_sealing() const { return {key_.encryption, blob_binding_of(config_.version)}; }

  // Loads every index file. Called once after open by commands that read or write blobs.
  void load_index();
  // load_index() with `other` (which must not use the index) run at the same time on a
  // remote store: finding a snapshot costs round trips the index load need not wait for.
  void load_index_alongside(const std::function<void()>& other);
  // load_index(), then the packs stored by a run that was cut before it wrote their index
  // (the index is written every 64 packs and at the end) adopted: their headers are read
  // and their blobs indexed (and written to the next index file), so a copy run again does
  // not send them again. The pack listing and `other` (which must not use the index) run
  // beside the index's load on a remote store: a copy's start. Returns the packs adopted.
  size_t load_index_and_adopt_packs(const std::function<void()>& other);
  // Whether the store holds exactly the index files loaded: a prune that ended since the
  // load replaced them (RepositoryLock's `early`).
  bool index_is_current();
  // The index emptied and loaded again.
  void reload_index();
  // Ids of the index files loaded (prune replaces them).
  const std::vector<Id>& loaded_index_files() const { return loaded_index_files_; }
  // Ids of the index files this process wrote.
  std::vector<Id> written_index_files();

  // Stores a blob unless the index (or a save in flight) has it. Thread-safe.
  // Returns true when the blob was new.
  bool save_blob(BlobType type, const Id& id, ByteView plaintext, CompressionEffort effort = CompressionEffort::standard);
  // save_blob for a blob as another repository stores it (`sealed`, opened with `from`),
  // sealed again without being decompressed: a copy between related format-2 repositories.
  bool save_resealed_blob(BlobType type, const Id& id, const BlobSealing& from, ByteView sealed, uint32_t raw_length);
  // Stores a blob even though the index has it (prune moves live blobs out of packs it
  // deletes). Thread-safe.
  void repack_blob(BlobType type, const Id& id, ByteView plaintext);
  // From now on, remembers the packs written (prune's new index lists them). Off by
  // default: a backup of a million small files would hold every blob twice.
  void keep_written_packs();
  // Packs written (and indexed in memory) since keep_written_packs().
  std::vector<IndexFile::Pack> take_written_packs();
  // Convenience: computes the id, saves, returns the id.
  Id save_blob(BlobType type, ByteView plaintext);
  // Loads and verifies a blob (its keyed hash must match the id). Throws IntegrityError.
  Bytes load_blob(const Id& id);
  Bytes load_blob(const Id& id, const BlobLocation& location);
  // The same into `out`, exactly `location.raw_length` bytes (a restore's staging buffer).
  void load_blob_into(const Id& id, const BlobLocation& location, std::span<uint8_t> out);
  // The stored bytes of `length` bytes of a pack from `offset`: several neighbouring blobs
  // read at once (see BlobPrefetch).
  Bytes read_pack_range(const Id& pack, uint64_t offset, uint64_t length);
  // The same into `out` (resized to `length`; a reused buffer is not zeroed again).
  void read_pack_range_into(const Id& pack, uint64_t offset, uint64_t length, LargeBuffer& out);
  // Opens a blob from its stored bytes into `out` (exactly `location.raw_length` bytes) and
  // verifies it against its id: by the seal in format 2, by hashing in format 1. Throws
  // IntegrityError.
  void open_blob_into(const Id& id, const BlobLocation& location, ByteView sealed, std::span<uint8_t> out);
  // Where a blob is stored; IntegrityError when the index does not know it.
  BlobLocation locate(const Id& id);

  // True once a pack upload has failed: every later save and flush is refused.
  bool save_failed() {
    std::lock_guard lock(save_mutex_);
    return save_failure_.has_value();
  }

  // Writes every open pack and an index file for all packs written since the last flush.
  // After flush() returns, every saved blob is durable and indexed.
  void flush();

  // Sealed whole objects (snapshots, locks, index files): the storage id is the
  // SHA-256 of the stored bytes.
  // `ready` (when given): what must be in place before the object appears (Backend::save_after).
  Id save_object(storage::FileType type, ByteView plaintext, const std::function<void()>& ready = {});
  // save_object in two halves, for a caller that must know the name even when the save
  // fails: an interrupted save of a lock may still land, and its taker removes it.
  struct SealedObject {
    Id id;
    Bytes bytes;
  };
  SealedObject seal(storage::FileType type, ByteView plaintext) const;
  void save_sealed(storage::FileType type, const SealedObject& object, const std::function<void()>& ready = {});
  Bytes load_object(storage::FileType type, const std::string& name);
  // The same for many objects, in their order; several at once from a remote store (a
  // round trip each would add up: hundreds of snapshots or index files). Throws the first
  // failure, wrapped by `describe_failure(name, error)` when given.
  std::vector<Bytes> load_objects(storage::FileType type, const std::vector<std::string>& names,
                                  const std::function<Error(const std::string&, const Error&)>& describe_failure = {});

  // Sealed objects under a name the caller computes (archive entries, whose names are keyed
  // hashes of what they hold): the seal binds the name. Saving replaces an object of that
  // name. Loading gives nullopt when the object is absent, IntegrityError when it does not
  // authenticate.
  void save_named_object(storage::FileType type, const Id& name, ByteView plaintext);
  std::optional<Bytes> load_named_object(storage::FileType type, const Id& name);

  // Writes an index file listing `packs` and naming the index files it supersedes.
  Id write_index_file(const IndexFile& file);

 private:
  Repository(std::unique_ptr<storage::Backend> backend, MasterKey key, RepositoryConfig config);
  // The open, or nullptr (the backend left with the caller) when the store has no config.
  static std::unique_ptr<Repository> open_existing(std::unique_ptr<storage::Backend>& backend, std::string_view password);
  using PackListing = std::vector<std::pair<std::string, uint64_t>>;  // name, size
  PackListing list_packs();
  size_t adopt_packs_among(const PackListing& packs);
  std::unique_ptr<PackWriter> take_writer(BlobType kind);
  void return_writer(std::unique_ptr<PackWriter> writer);
  void discard_writer(const std::exception_ptr& failure, BlobType kind);
  // Adds a blob to a pack writer of its type with `add`, uploading the pack when full.
  void add_to_pack(BlobType type, const Id& id, const std::function<void(PackWriter&)>& add);
  void throw_if_save_failed() const;  // with save_mutex_ held
  void upload_pack(PackWriter& writer);
  // Uploads a full writer on an upload thread, which returns it to the idle writers (or
  // discards it on failure). Blocks while every upload thread is busy.
  void upload_in_background(std::unique_ptr<PackWriter> writer);
  void wait_for_uploads();
  void write_pending_index();

  std::unique_ptr<storage::Backend> backend_;
  MasterKey key_;
  RepositoryConfig config_;
  std::string opened_key_id_;
  Chunker chunker_;
  Chunker dump_chunker_;
  std::unique_ptr<crypto::KeyedHash> id_hash_;
  Index index_;
  std::vector<Id> loaded_index_files_;
  SaveStatistics statistics_;

  std::mutex save_mutex_;  // guards the fields below
  std::unordered_set<Id, IdHash> in_flight_;
  std::vector<std::unique_ptr<PackWriter>> idle_writers_;
  std::condition_variable writer_returned_;
  size_t writers_created_[2] = {0, 0};  // by BlobType
  size_t max_writers_ = std::max(2u, std::thread::hardware_concurrency());  // of data; of trees, two
  std::vector<IndexFile::Pack> unindexed_packs_;
  size_t unindexed_blobs_ = 0;
  bool keep_written_packs_ = false;
  std::vector<IndexFile::Pack> written_packs_;
  std::vector<Id> written_index_files_;
  struct SaveFailure {
    std::string message;
    ExitCode code;
  };
  std::optional<SaveFailure> save_failure_;  // the first failed pack upload: saves refused
  size_t uploads_pending_ = 0;
  std::condition_variable uploads_done_;
  // Background uploads for remote stores (Backend::background_saves); null for local ones.
  // Last: destroyed first, its threads joined while the rest is still there.
  std::unique_ptr<ThreadPool> uploads_;
};

}  // namespace obkeep::repo
