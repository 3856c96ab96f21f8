// A repository on an SFTP server (the DR site), through the operator's ssh.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "storage/backend.hpp"
#include "storage/sftp/sftp_connection.hpp"
#include "storage/sftp/sftp_url.hpp"
#include "storage/ssh/ssh_control_directory.hpp"
#include "storage/ssh/ssh_pool.hpp"

namespace obkeep::storage {

// The same layout and save protocol as LocalBackend: config, keys/, data/<2 hex>/, index/,
// snapshots/, locks/; a save writes .tmp-<random>, fsyncs it (fsync@openssh.com when the
// server offers it) and renames it into place.
//
// Each call pipelines its requests (a pack goes out as tens of writes in flight, a read as
// tens of reads), and calls run concurrently: a connection carries any number of them,
// and up to `connections` ssh connections are opened as calls overlap, each with its own
// SSH flow-control window. A call whose connection is lost is repeated on a new one
// (every call is safe to repeat: saves write a fresh temporary).
class SftpBackend : public Backend {
 public:
  // Connects once (so a bad URL, host key or key fails here). Throws Error with
  // ExitCode::no_repository when the server cannot be reached.
  explicit SftpBackend(const std::string& url);
  ~SftpBackend() override;

  std::string location() const override { return url_; }
  void create() override;
  void save(const Handle& handle, ByteView data) override { save_after(handle, data, [] {}); }
  void save_after(const Handle& handle, ByteView data, const std::function<void()>& ready) override;
  Bytes load(const Handle& handle, uint64_t offset, uint64_t length) override;
  void read(const Handle& handle, uint64_t offset, uint64_t length, const std::function<void(ByteView)>& use) override;
  void read_into(const Handle& handle, uint64_t offset, std::span<uint8_t> out) override;
  std::optional<Bytes> load_if_present(const Handle& handle) override;
  std::optional<uint64_t> stat(const Handle& handle) override;
  void remove(const Handle& handle) override;
  void list(FileType type, const std::function<void(const std::string&, uint64_t)>& visit) override;
  size_t remove_temporaries() override;
  size_t background_saves() const override { return pool_->max_connections(); }
  bool remote() const override { return true; }
  // Two a connection: with four, a restore at RTT 80 ms was a tenth slower (docs/benchmarks.md).
  size_t concurrent_reads() const override { return 2 * pool_->max_connections(); }

  // The server path of an object (for tests and messages).
  std::string path_of(const Handle& handle) const;
  // Saves whose object went up in stripes through several connections (tests).
  uint64_t striped_saves() const { return striped_saves_; }
  // Round trips spent asking whether a newer folder (copies/, journal/, archive/) exists (tests).
  uint64_t folder_checks() const { return folder_checks_; }

 private:
  // load(); an absent object is nothing instead of an error when `absent_is_nothing`.
  std::optional<Bytes> load_part(const Handle& handle, uint64_t offset, uint64_t length, bool absent_is_nothing);
  struct Remote;
  void create(const Remote& remote);
  std::shared_ptr<SftpConnection> connect(const std::atomic<bool>* cancelled = nullptr);
  // Runs `call` on a leased connection, again on a fresh one when the connection is lost.
  template <class Call>
  auto with_connection(Call&& call, const std::function<bool(const SftpConnection&)>& preferred = {});

  std::string describe(const std::string& path) const;
  std::string join(const std::string& folder, const std::string& name) const;

  std::string url_;
  SftpUrl parsed_;
  std::string endpoint_;  // user@host:port, for messages
  std::chrono::seconds stall_limit_;

  SshControlDirectory control_;  // before the pool: removed after its connections end
  std::unique_ptr<SshPool<SftpConnection>> pool_;
  std::atomic<uint64_t> striped_saves_{0};
  // Folders newer than some repositories (copies/, journal/, archive/) seen or made by this
  // backend: each is asked about once, not a round trip before every save into it.
  std::mutex folders_mutex_;
  std::set<std::string> folders_present_;
  std::atomic<uint64_t> folder_checks_{0};
};

}  // namespace obkeep::storage
