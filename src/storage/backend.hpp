// The one storage interface every repository store implements (local, sftp, s3, in-memory).
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "util/bytes.hpp"
#include "util/error.hpp"

namespace obkeep::storage {

// Kinds of stored objects; each lives in its own namespace (a folder on a file store).
// copy_record, journal and archive came last: repositories made before them have no
// copies/, journal/ or archive/ folder, which file stores create at the first save.
// Archive entries are the one type whose names are not content hashes (a keyed hash of
// what they archive, repo/archive_entry.hpp), so that a reader can compute them.
enum class FileType { config, key, pack, index, snapshot, lock, copy_record, journal, archive };

std::string to_string(FileType type);

struct Handle {
  FileType type;
  std::string name;  // 64 hex digits, except for the config object whose name is "config"
};

// Save is atomic and durable: after it returns, the object is complete under its name
// and survives a crash; a crash during it leaves at most an invisible temporary.
// Objects are never overwritten in place (names are content ids, locks are unique).
class Backend {
 public:
  virtual ~Backend() = default;

  // The URL or path the backend was opened with, for messages.
  virtual std::string location() const = 0;

  // Creates the repository's folders; fails when a config already exists.
  virtual void create() = 0;
  // An archive entry saved again replaces the one of that name (its name is not its
  // content's hash); callers stat first, and append-only stores refuse the replacement.
  virtual void save(const Handle& handle, ByteView data) = 0;
  // save(), the object appearing under its name only once `ready()` has returned (it throws
  // to abandon the save): an object that must follow others (a config after its key, a
  // snapshot after its index) goes up beside them, and a store that writes under a
  // temporary name (SFTP) waits only to rename it. By default `ready()`, then save().
  virtual void save_after(const Handle& handle, ByteView data, const std::function<void()>& ready) {
    ready();
    save(handle, data);
  }
  // Loads `length` bytes at `offset` (length 0: to the end). Throws Error when missing
  // or short.
  virtual Bytes load(const Handle& handle, uint64_t offset = 0, uint64_t length = 0) = 0;
  // Calls `use` with `length` bytes at `offset`, valid only during the call, so a backend
  // can hand out its own buffer instead of a copy. Same errors as load.
  virtual void read(const Handle& handle, uint64_t offset, uint64_t length, const std::function<void(ByteView)>& use) {
    Bytes data = load(handle, offset, length);
    use(data);
  }
  // Reads `out.size()` bytes at `offset` into `out`. A store that can write there itself
  // skips read()'s buffer and its copy: a restore's read-ahead holds hundreds of MiB of
  // fetched ranges, and one buffer per fetching thread beside them doubled its memory.
  // Same errors as load.
  virtual void read_into(const Handle& handle, uint64_t offset, std::span<uint8_t> out) {
    read(handle, offset, out.size(), [&](ByteView bytes) { std::memcpy(out.data(), bytes.data(), out.size()); });
  }
  // The whole object, or nullopt when absent. A remote store answers both in one request
  // (a repository's open reads its config so: one round trip less to a far site).
  virtual std::optional<Bytes> load_if_present(const Handle& handle) {
    if (!stat(handle)) return std::nullopt;
    return load(handle);
  }
  // Size of the object, or nullopt when absent.
  virtual std::optional<uint64_t> stat(const Handle& handle) = 0;
  virtual void remove(const Handle& handle) = 0;
  // Calls `visit(name, size)` for every object of `type`.
  virtual void list(FileType type, const std::function<void(const std::string&, uint64_t)>& visit) = 0;
  // How many saves may usefully run in the background while the caller goes on: a remote
  // store answers each after a round trip, and packs sent one after another leave the
  // link idle in between. 0 (local disks): saves run in the caller's thread.
  virtual size_t background_saves() const { return 0; }
  // Whether calls cost round trips (background_saves() is not 0), answered without waiting:
  // a remote store may still be measuring the link to size its pool of connections, which
  // background_saves() waits for.
  virtual bool remote() const { return background_saves() != 0; }
  // Bytes a restore's read-ahead may fetch between two wanted blobs of a pack rather than
  // make a request for each: what one more request costs, in bytes. Where every request
  // pays a round trip of its own (S3), more than where requests share a connection's
  // flow-control window and the extra bytes take its room (SFTP).
  virtual uint64_t read_gap() const { return 1024 * 1024; }
  // Ranges a restore's read-ahead fetches at once. Where each request waits for its own
  // round trip (S3), four per transfer; a store whose requests share a connection's
  // flow-control window (SFTP) wants fewer, or the range wanted next waits behind others.
  virtual size_t concurrent_reads() const { return 4 * background_saves(); }
  // Removes what interrupted saves left behind (temporary files). Only safe while no one
  // else writes: prune calls it under its exclusive lock. Returns how many were removed.
  virtual size_t remove_temporaries() { return 0; }
  // True when the store keeps everything it was given: removes and overwrites are refused
  // (an `obkeep serve --append-only` site). Commands that delete check it first.
  virtual bool append_only() const { return false; }
  // When the store refuses to delete this object until a time still to come (S3 Object Lock
  // retention): that time, in Unix nanoseconds; nullopt when it may be removed now. Prune
  // and forget ask before they remove anything.
  virtual std::optional<int64_t> retained_until(const Handle&) { return std::nullopt; }
  // One line on what keeps stored objects from being deleted, for status: "none" here.
  virtual std::string protection() { return "none"; }
};

// A store refused to remove or overwrite an object because it is append-only.
class AppendOnlyRefusal : public Error {
 public:
  using Error::Error;
};

// Bandwidth limits of one repository, in bytes per second; 0 is unlimited.
struct TransferLimits {
  uint64_t upload_bytes_per_second = 0;
  uint64_t download_bytes_per_second = 0;

  bool any() const { return upload_bytes_per_second || download_bytes_per_second; }
};

// Opens the backend a repository URL names: a local path, sftp://…, ssh://… (obkeep serve), s3://…; held to
// `limits` (storage/limit/rate_limited_backend.hpp).
std::unique_ptr<Backend> open_backend(const std::string& url, const TransferLimits& limits = {});

}  // namespace obkeep::storage
