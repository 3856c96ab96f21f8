// The Repository facade: init/open, blob saving through pack writers, the index, objects.
#include "repo/repository.hpp"

#include <future>
#include <set>

#include "util/error.hpp"
#include "util/interrupt.hpp"
#include "util/parallel_tasks.hpp"

namespace obkeep::repo {

using storage::FileType;

namespace {

const storage::Handle config_handle{FileType::config, "config"};

uint8_t associated_of(FileType type) {
  switch (type) {
    case FileType::config: return 'C';
    case FileType::index: return 'I';
    case FileType::snapshot: return 'S';
    case FileType::lock: return 'L';
    case FileType::copy_record: return 'R';
    case FileType::journal: return 'J';
    case FileType::archive: return 'A';
    default: return 'O';
  }
}

// The associated data is the type byte and the name: an entry moved under another name
// (another WAL file's) fails to open.
Bytes named_object_associated(FileType type, const Id& name) {
  Bytes associated(1 + name.bytes.size());
  associated[0] = associated_of(type);
  std::copy(name.bytes.begin(), name.bytes.end(), associated.begin() + 1);
  return associated;
}

Bytes seal_object(const MasterKey& key, FileType type, ByteView plaintext) {
  uint8_t associated = associated_of(type);
  return crypto::seal(key.encryption, plaintext, ByteView(&associated, 1));
}

struct NewRepositoryFiles {
  MasterKey key;
  RepositoryConfig config;
  std::string key_id;
};

// Makes the store's folders (Backend::create) and writes a new repository's key file and
// config there; the key's derivation runs while the folders are made on a remote store.
NewRepositoryFiles create_repository_files(storage::Backend& backend, std::string_view password, const InitOptions& options) {
  MasterKey key = MasterKey::generate();
  if (options.id_key) key.id_key = *options.id_key;
  RepositoryConfig config;
  config.version = options.version;
  crypto::random_bytes(config.id.bytes.data(), config.id.bytes.size());
  if (options.chunker) {
    config.chunker = *options.chunker;
  } else {
    crypto::random_bytes(config.chunker.seed.data(), config.chunker.seed.size());
  }
  config.dump_chunker = options.dump_chunker ? *options.dump_chunker : dump_chunker_params(config.chunker);
  NewKeyFile key_file;
  run_parallel(2, backend.background_saves() ? 2 : 1,
               [&](size_t i) { i == 0 ? backend.create() : void(key_file = make_key_file(key, password, options.scrypt)); });
  // The key file first: a config without a key would be an unopenable repository. The
  // config goes up beside it and appears once the key is in place.
  std::promise<void> key_saved;
  std::shared_future<void> key_in_place = key_saved.get_future().share();
  Bytes sealed_config = seal_object(key, FileType::config, encode_repository_config(config));
  run_parallel(2, backend.background_saves() ? 2 : 1, [&](size_t task) {
    if (task == 1) return backend.save_after(config_handle, sealed_config, [key_in_place] { key_in_place.get(); });
    try {
      backend.save({FileType::key, key_file.id}, as_bytes(key_file.text));
      key_saved.set_value();
    } catch (...) {
      key_saved.set_exception(std::current_exception());
      throw;
    }
  });
  return {key, config, key_file.id};
}

}  // namespace

InitOptions copy_params_of(const Repository& source) {
  InitOptions options;
  options.chunker = source.config().chunker;
  options.dump_chunker = source.config().dump_chunker;
  options.id_key = source.key().id_key;
  return options;
}

void Repository::init(storage::Backend& backend, std::string_view password, const InitOptions& options) {
  if (backend.stat(config_handle)) throw Error("a repository already exists at " + backend.location());
  create_repository_files(backend, password, options);
}

std::unique_ptr<Repository> Repository::open(std::unique_ptr<storage::Backend> backend, std::string_view password) {
  std::unique_ptr<Repository> repository = open_existing(backend, password);
  if (!repository) throw Error("no repository at " + backend->location(), ExitCode::no_repository);
  return repository;
}

std::unique_ptr<Repository> Repository::open_or_create(std::unique_ptr<storage::Backend> backend, std::string_view password,
                                                       const std::function<InitOptions()>& options, bool* created) {
  std::unique_ptr<Repository> repository = open_existing(backend, password);
  if (created) *created = !repository;
  if (repository) return repository;
  auto [key, config, key_id] = create_repository_files(*backend, password, options());  // create() refuses a store holding other files
  repository = std::unique_ptr<Repository>(new Repository(std::move(backend), key, config));
  repository->opened_key_id_ = key_id;
  return repository;
}

std::unique_ptr<Repository> Repository::open_existing(std::unique_ptr<storage::Backend>& backend, std::string_view password) {
  // The config and the key files are independent reads: on a remote store they go in
  // parallel, and the key's derivation overlaps the config's round trips.
  std::exception_ptr config_failure, key_failure;
  std::optional<Bytes> sealed;
  std::optional<MasterKey> key;
  std::string key_id;
  auto read_config = [&] {
    try {
      sealed = backend->load_if_present(config_handle);
    } catch (const Error& e) {
      config_failure = std::make_exception_ptr(Error(std::string("cannot open repository: ") + e.what(), e.code()));
    }
  };
  auto read_key = [&] {
    try {
      key = open_master_key(*backend, password, &key_id);
    } catch (...) {
      key_failure = std::current_exception();
    }
  };
  run_parallel(2, backend->remote() ? 2 : 1, [&](size_t i) { i == 0 ? read_config() : read_key(); });
  // A store without a config is no repository, whatever the keys said.
  if (config_failure) std::rethrow_exception(config_failure);
  if (!sealed) return nullptr;
  if (key_failure) std::rethrow_exception(key_failure);
  uint8_t associated = associated_of(FileType::config);
  Bytes text = crypto::open(key->encryption, *sealed, ByteView(&associated, 1));
  auto repository =
      std::unique_ptr<Repository>(new Repository(std::move(backend), *key, decode_repository_config(text)));
  repository->opened_key_id_ = key_id;
  return repository;
}

Repository::Repository(std::unique_ptr<storage::Backend> backend, MasterKey key, RepositoryConfig config)
    : backend_(std::move(backend)),
      key_(key),
      config_(config),
      chunker_(config.chunker),
      dump_chunker_(config.dump_chunker),
      id_hash_(std::make_unique<crypto::KeyedHash>(key.id_key)) {
  // A remote store takes packs in the background: the writers that fill them go on while
  // as many uploads run as the store takes at once (more writers, each a pack's memory).
  if (size_t uploads = backend_->background_saves()) {
    max_writers_ += uploads;
    uploads_ = std::make_unique<ThreadPool>(static_cast<unsigned>(uploads), uploads);
  }
}

unsigned Repository::whole_pack_readers() {
  constexpr size_t most_remote = 8;
  return std::max(ThreadPool::default_workers(), static_cast<unsigned>(std::min(backend_->background_saves(), most_remote)));
}

void Repository::load_index() {
  std::vector<std::string> names;
  backend_->list(FileType::index, [&](const std::string& name, uint64_t) { names.push_back(name); });
  std::vector<Bytes> files = load_objects(FileType::index, names, [](const std::string& name, const Error& e) {
    return Error("cannot read index file " + name + ": " + e.what(), e.code());
  });
  for (size_t i = 0; i < names.size(); ++i) {
    index_.add_file(decode_index_file(files[i]));
    Bytes().swap(files[i]);
    loaded_index_files_.push_back(Id::from_hex(names[i]));
  }
}

bool Repository::index_is_current() {
  std::set<Id> stored;
  backend_->list(FileType::index, [&](const std::string& name, uint64_t) { stored.insert(Id::from_hex(name)); });
  return stored == std::set<Id>(loaded_index_files_.begin(), loaded_index_files_.end());
}

void Repository::reload_index() {
  index_.clear();
  loaded_index_files_.clear();
  load_index();
}

void Repository::load_index_alongside(const std::function<void()>& other) {
  run_parallel(2, backend_->background_saves() ? 2 : 1, [&](size_t i) { i == 0 ? load_index() : other(); });
}

size_t Repository::load_index_and_adopt_packs(const std::function<void()>& other) {
  PackListing packs;
  run_parallel(3, backend_->background_saves() ? 3 : 1, [&](size_t i) {
    if (i == 0) load_index();
    if (i == 1) packs = list_packs();
    if (i == 2 && other) other();
  });
  return adopt_packs_among(packs);
}

Repository::PackListing Repository::list_packs() {
  PackListing packs;
  backend_->list(FileType::pack, [&](const std::string& name, uint64_t size) { packs.emplace_back(name, size); });
  return packs;
}

size_t Repository::adopt_packs_among(const PackListing& packs) {
  PackListing unindexed;
  for (const auto& pack : packs)
    if (!index_.has_pack(Id::from_hex(pack.first))) unindexed.push_back(pack);
  std::atomic<size_t> adopted{0};
  auto adopt = [&](size_t i) {
    const auto& [name, size] = unindexed[i];
    try {
      // The header is at the end, its length in the last 4 bytes: one read of the tail
      // usually holds it, else a second of the exact length.
      uint64_t tail = std::min<uint64_t>(size, 64 * 1024);
      Bytes bytes = backend_->load({FileType::pack, name}, size - tail, tail);
      if (bytes.size() >= 4) {
        uint64_t needed = uint64_t{get_u32le(bytes.data() + bytes.size() - 4)} + 4;
        if (needed > tail && needed <= size) bytes = backend_->load({FileType::pack, name}, size - needed, needed);
      }
      std::vector<PackedBlob> blobs = parse_pack_header(key_.encryption, bytes, size);
      Id pack = Id::from_hex(name);
      std::lock_guard lock(save_mutex_);
      index_.add_pack(pack, blobs);
      unindexed_blobs_ += blobs.size();
      unindexed_packs_.push_back({pack, std::move(blobs)});
      adopted++;
    } catch (const Error&) {
      // Not ours or damaged: left for check to report and prune to remove.
    }
  };
  run_parallel(unindexed.size(), static_cast<unsigned>(2 * std::max<size_t>(1, backend_->background_saves())), adopt);
  throw_if_interrupted();
  return adopted;
}

std::vector<Bytes> Repository::load_objects(FileType type, const std::vector<std::string>& names,
                                            const std::function<Error(const std::string&, const Error&)>& describe_failure) {
  std::vector<Bytes> objects(names.size());
  run_parallel(names.size(), static_cast<unsigned>(2 * backend_->background_saves()), [&](size_t i) {
    try {
      objects[i] = load_object(type, names[i]);
    } catch (const Error& e) {
      if (!describe_failure) throw;
      throw describe_failure(names[i], e);
    }
  });
  return objects;
}

// At most one pack writer per core: encoding is CPU work, so more would only add ~25 MiB
// of buffer each without adding speed; extra reader threads wait here instead. Trees have
// writers of their own: two, so that trees need not wait for a full tree pack's upload (an
// idle one is taken first, so they mostly fill one pack). The wait is in slices so that a
// signal or another thread's failed upload ends it.
std::unique_ptr<PackWriter> Repository::take_writer(BlobType kind) {
  size_t& created = writers_created_[static_cast<size_t>(kind)];
  size_t limit = kind == BlobType::tree ? 2 : max_writers_;
  auto idle = [&] {
    return std::find_if(idle_writers_.rbegin(), idle_writers_.rend(), [&](const auto& writer) { return writer->kind() == kind; });
  };
  std::unique_lock lock(save_mutex_);
  for (;;) {
    throw_if_save_failed();
    if (idle() != idle_writers_.rend() || created < limit) break;
    writer_returned_.wait_for(lock, std::chrono::milliseconds(100));
    throw_if_interrupted();
  }
  auto found = idle();
  if (found == idle_writers_.rend()) {
    ++created;
    return std::make_unique<PackWriter>(key_.encryption, blob_binding_of(config_.version), kind);
  }
  auto writer = std::move(*found);
  idle_writers_.erase(std::next(found).base());
  return writer;
}

void Repository::return_writer(std::unique_ptr<PackWriter> writer) {
  {
    std::lock_guard lock(save_mutex_);
    idle_writers_.push_back(std::move(writer));
  }
  writer_returned_.notify_all();  // the waiters may want the other kind
}

void Repository::throw_if_save_failed() const {
  if (save_failure_) throw Error(save_failure_->message, save_failure_->code);
}

// The writer's blobs are lost with it, yet other savers may have been told they are in
// flight: from here on every save and flush fails, so no snapshot can refer to them.
void Repository::discard_writer(const std::exception_ptr& failure, BlobType kind) {
  {
    std::lock_guard lock(save_mutex_);
    --writers_created_[static_cast<size_t>(kind)];
    if (!save_failure_) {
      try {
        std::rethrow_exception(failure);
      } catch (const Error& e) {
        save_failure_ = SaveFailure{e.what(), e.code()};
      } catch (const std::exception& e) {
        save_failure_ = SaveFailure{e.what(), ExitCode::error};
      } catch (...) {
        save_failure_ = SaveFailure{"a pack could not be stored", ExitCode::error};
      }
    }
  }
  writer_returned_.notify_all();
}

// Adds a blob to a pack writer (uploading the pack when full); on any failure the writer
// is discarded and the repository refuses further saves.
void Repository::add_to_pack(BlobType type, const Id& id, const std::function<void(PackWriter&)>& add) {
  std::unique_ptr<PackWriter> writer;
  try {
    writer = take_writer(type);
  } catch (...) {
    std::lock_guard lock(save_mutex_);
    in_flight_.erase(id);
    throw;
  }
  try {
    add(*writer);
  } catch (const IntegrityError&) {
    // A blob that did not open (a copy's damaged source) was not added: the pack is intact.
    return_writer(std::move(writer));
    std::lock_guard lock(save_mutex_);
    in_flight_.erase(id);
    throw;
  } catch (...) {
    discard_writer(std::current_exception(), type);
    throw;
  }
  try {
    if (writer->full()) {
      if (uploads_) return upload_in_background(std::move(writer));
      upload_pack(*writer);
    }
  } catch (...) {
    discard_writer(std::current_exception(), type);
    throw;
  }
  return_writer(std::move(writer));
}

bool Repository::save_blob(BlobType type, const Id& id, ByteView plaintext, CompressionEffort effort) {
  {
    std::lock_guard lock(save_mutex_);
    throw_if_save_failed();
    if (index_.has(id) || !in_flight_.insert(id).second) return false;
  }
  add_to_pack(type, id, [&](PackWriter& writer) { writer.add(type, id, plaintext, effort); });
  statistics_.blobs_added++;
  statistics_.bytes_added += plaintext.size();
  return true;
}

bool Repository::save_resealed_blob(BlobType type, const Id& id, const BlobSealing& from, ByteView sealed,
                                    uint32_t raw_length) {
  {
    std::lock_guard lock(save_mutex_);
    throw_if_save_failed();
    if (index_.has(id) || !in_flight_.insert(id).second) return false;
  }
  add_to_pack(type, id, [&](PackWriter& writer) { writer.add_resealed(from, type, id, sealed, raw_length); });
  statistics_.blobs_added++;
  statistics_.bytes_added += raw_length;
  return true;
}

void Repository::repack_blob(BlobType type, const Id& id, ByteView plaintext) {
  {
    std::lock_guard lock(save_mutex_);
    throw_if_save_failed();
    if (!in_flight_.insert(id).second) return;
  }
  add_to_pack(type, id, [&](PackWriter& writer) { writer.add(type, id, plaintext); });
}

void Repository::keep_written_packs() {
  std::lock_guard lock(save_mutex_);
  keep_written_packs_ = true;
}

std::vector<IndexFile::Pack> Repository::take_written_packs() {
  std::lock_guard lock(save_mutex_);
  std::vector<IndexFile::Pack> packs;
  packs.swap(written_packs_);
  return packs;
}

std::vector<Id> Repository::written_index_files() {
  std::lock_guard lock(save_mutex_);
  return written_index_files_;
}

Id Repository::save_blob(BlobType type, ByteView plaintext) {
  Id id = blob_id(plaintext);
  save_blob(type, id, plaintext);
  return id;
}

void Repository::upload_pack(PackWriter& writer) {
  if (writer.count() == 0) return;
  std::vector<PackedBlob> blobs = writer.blobs();
  ByteView pack = writer.finish();
  Id pack_id = crypto::sha256(pack);
  backend_->save({FileType::pack, pack_id.hex()}, pack);
  statistics_.packs_written++;
  statistics_.bytes_stored += pack.size();
  writer.reset();
  bool write_index = false;
  {
    std::lock_guard lock(save_mutex_);
    index_.add_pack(pack_id, blobs);
    for (const PackedBlob& blob : blobs) in_flight_.erase(blob.id);
    if (keep_written_packs_) written_packs_.push_back({pack_id, blobs});
    unindexed_blobs_ += blobs.size();
    unindexed_packs_.push_back({pack_id, std::move(blobs)});
    // A long backup writes its index as it goes, so a crash loses little work; and in
    // files of bounded size, so that small blobs by the million are not held twice.
    write_index = unindexed_packs_.size() >= 64 || unindexed_blobs_ >= 65536;
  }
  if (write_index) write_pending_index();
}

void Repository::upload_in_background(std::unique_ptr<PackWriter> writer) {
  {
    std::lock_guard lock(save_mutex_);
    ++uploads_pending_;
  }
  // Writers in upload count against max_writers_, so the queue never outgrows the threads.
  auto job = [this, writer = std::move(writer)]() mutable {
    BlobType kind = writer->kind();
    try {
      upload_pack(*writer);
      return_writer(std::move(writer));
    } catch (...) {
      discard_writer(std::current_exception(), kind);
    }
    std::lock_guard lock(save_mutex_);
    --uploads_pending_;
    uploads_done_.notify_all();
  };
  uploads_->submit(std::move(job));
}

void Repository::wait_for_uploads() {
  std::unique_lock lock(save_mutex_);
  while (uploads_pending_ > 0) {
    uploads_done_.wait_for(lock, std::chrono::milliseconds(100));
    if (interrupted()) break;  // the uploads see the signal too; the caller's throw unwinds
  }
}

void Repository::write_pending_index() {
  IndexFile file;
  {
    std::lock_guard lock(save_mutex_);
    file.packs.swap(unindexed_packs_);
    unindexed_blobs_ = 0;
  }
  if (!file.packs.empty()) write_index_file(file);
}

void Repository::flush() {
  // With background uploads the partly filled packs join the full ones still going up;
  // waiting for those first would add a pack's upload to every flush at a far site.
  if (!uploads_) wait_for_uploads();
  throw_if_interrupted();
  std::vector<std::unique_ptr<PackWriter>> writers;
  {
    std::lock_guard lock(save_mutex_);
    throw_if_save_failed();
    writers.swap(idle_writers_);
  }
  if (uploads_) {
    // The last, partly filled packs go up together too.
    for (auto& writer : writers)
      if (writer->count() == 0)
        return_writer(std::move(writer));
      else
        upload_in_background(std::move(writer));
    wait_for_uploads();
    throw_if_interrupted();
    std::lock_guard lock(save_mutex_);
    throw_if_save_failed();
  } else {
    std::exception_ptr failure;
    for (auto& writer : writers) {
      if (failure) break;
      try {
        upload_pack(*writer);
      } catch (...) {
        failure = std::current_exception();
      }
    }
    if (failure) {
      // Every writer taken here goes: the failed one's blobs are lost, and the others are
      // unusable once saves are refused.
      for (const auto& writer : writers) discard_writer(failure, writer->kind());
      std::rethrow_exception(failure);
    }
    {
      std::lock_guard lock(save_mutex_);
      for (auto& writer : writers) idle_writers_.push_back(std::move(writer));
    }
    writer_returned_.notify_all();
  }
  write_pending_index();
}

BlobLocation Repository::locate(const Id& id) {
  std::optional<BlobLocation> location;
  {
    std::lock_guard lock(save_mutex_);  // writers add packs to the index concurrently
    location = index_.find(id);
  }
  if (!location) throw IntegrityError("blob " + id.hex() + " is not in the index");
  return *location;
}

Bytes Repository::load_blob(const Id& id) { return load_blob(id, locate(id)); }

Bytes Repository::load_blob(const Id& id, const BlobLocation& location) {
  Bytes plaintext(location.raw_length);
  load_blob_into(id, location, plaintext);
  return plaintext;
}

void Repository::load_blob_into(const Id& id, const BlobLocation& location, std::span<uint8_t> out) {
  if (out.size() != location.raw_length) throw Error("blob " + id.hex() + ": buffer of the wrong size");
  backend_->read({FileType::pack, location.pack.hex()}, location.offset, location.stored_length,
                 [&](ByteView sealed) { open_blob_into(id, location, sealed, out); });
}

Bytes Repository::read_pack_range(const Id& pack, uint64_t offset, uint64_t length) {
  Bytes stored(length);
  backend_->read_into({FileType::pack, pack.hex()}, offset, stored);
  return stored;
}

void Repository::read_pack_range_into(const Id& pack, uint64_t offset, uint64_t length, LargeBuffer& out) {
  out.resize_for_overwrite(length);
  backend_->read_into({FileType::pack, pack.hex()}, offset, out.span());
}

void Repository::open_blob_into(const Id& id, const BlobLocation& location, ByteView sealed, std::span<uint8_t> out) {
  if (out.size() != location.raw_length) throw Error("blob " + id.hex() + ": buffer of the wrong size");
  try {
    decode_blob_into(blob_sealing(), location.type, id, sealed, out);
  } catch (const IntegrityError& e) {
    throw IntegrityError("blob " + id.hex() + " in pack " + location.pack.hex() + " is damaged: " + e.what());
  }
  // A format-2 seal that opens proves the id; format 1 needs the hash.
  if (blob_sealing().binding == BlobBinding::type && blob_id(out) != id)
    throw IntegrityError("blob " + id.hex() + " in pack " + location.pack.hex() + " does not match its id");
}

Id Repository::save_object(FileType type, ByteView plaintext, const std::function<void()>& ready) {
  SealedObject object = seal(type, plaintext);
  save_sealed(type, object, ready);
  return object.id;
}

Repository::SealedObject Repository::seal(FileType type, ByteView plaintext) const {
  Bytes sealed = seal_object(key_, type, plaintext);
  Id id = crypto::sha256(sealed);
  return {id, std::move(sealed)};
}

void Repository::save_sealed(FileType type, const SealedObject& object, const std::function<void()>& ready) {
  if (ready)
    backend_->save_after({type, object.id.hex()}, object.bytes, ready);
  else
    backend_->save({type, object.id.hex()}, object.bytes);
}

Bytes Repository::load_object(FileType type, const std::string& name) {
  Bytes sealed = backend_->load({type, name});
  if (type != FileType::config && crypto::sha256(sealed).hex() != name)
    throw IntegrityError(storage::to_string(type) + " " + name + " does not match its name (damaged)");
  uint8_t associated = associated_of(type);
  try {
    return crypto::open(key_.encryption, sealed, ByteView(&associated, 1));
  } catch (const IntegrityError&) {
    throw IntegrityError(storage::to_string(type) + " " + name + " fails authentication (damaged or tampered with)");
  }
}

void Repository::save_named_object(FileType type, const Id& name, ByteView plaintext) {
  backend_->save({type, name.hex()}, crypto::seal(key_.encryption, plaintext, named_object_associated(type, name)));
}

std::optional<Bytes> Repository::load_named_object(FileType type, const Id& name) {
  Bytes sealed;
  try {
    sealed = backend_->load({type, name.hex()});
  } catch (const Error&) {
    // Absence is an answer; any other failure (the store's, a damaged object) is not.
    if (!backend_->stat({type, name.hex()})) return std::nullopt;
    throw;
  }
  try {
    return crypto::open(key_.encryption, sealed, named_object_associated(type, name));
  } catch (const IntegrityError&) {
    throw IntegrityError(storage::to_string(type) + " " + name.hex() + " fails authentication (damaged or tampered with)");
  }
}

Id Repository::write_index_file(const IndexFile& file) {
  Id id = save_object(FileType::index, encode_index_file(file));
  std::lock_guard lock(save_mutex_);
  written_index_files_.push_back(id);
  return id;
}

}  // namespace obkeep::repo
