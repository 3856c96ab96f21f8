// A repository on an SFTP server (the DR site), through a small pool of libssh sessions.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "storage/backend.hpp"
#include "storage/sftp/sftp_session.hpp"
#include "storage/sftp/sftp_url.hpp"
#include "storage/sftp/sftp_watchdog.hpp"

namespace obkeep::storage {

// The same layout and save protocol as LocalBackend: config, keys/, data/<2 hex>/, index/,
// snapshots/, locks/; a save writes .tmp-<random>, fsyncs it (fsync@openssh.com when the
// server offers it) and renames it into place.
//
// libssh sessions are not thread-safe, and the repository calls a backend from several
// workers at once, so each call borrows a whole session from a pool: up to four, opened on
// demand, each used by one thread at a time. More would only add connections; a single
// session would serialise pack uploads behind each other's round trips.
class SftpBackend : public Backend {
 public:
  // Connects once (so a bad URL, host key or key fails here). Throws Error with
  // ExitCode::no_repository when the server cannot be reached.
  explicit SftpBackend(const std::string& url);
  ~SftpBackend() override;

  std::string location() const override { return url_; }
  void create() override;
  void save(const Handle& handle, ByteView data) override;
  Bytes load(const Handle& handle, uint64_t offset, uint64_t length) override;
  void read(const Handle& handle, uint64_t offset, uint64_t length, const std::function<void(ByteView)>& use) override;
  std::optional<uint64_t> stat(const Handle& handle) override;
  void remove(const Handle& handle) override;
  void list(FileType type, const std::function<void(const std::string&, uint64_t)>& visit) override;
  size_t remove_temporaries() override;

  // The server path of an object (for tests and messages).
  std::string path_of(const Handle& handle) const;

  static constexpr size_t max_sessions = 4;

 private:
  class Lease;
  std::unique_ptr<SftpSession> acquire();
  void release(std::unique_ptr<SftpSession> session);

  std::string describe(const std::string& path) const;
  std::string join(const std::string& folder, const std::string& name) const;

  std::string url_;
  SftpUrl parsed_;
  std::string endpoint_;  // user@host:port, for messages

  std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<SftpSession>> idle_;
  size_t open_sessions_ = 0;
  // Watches the sessions lent out; declared after the pool, so it stops before the pool goes.
  std::unique_ptr<SftpWatchdog> watchdog_;
};

}  // namespace obkeep::storage
