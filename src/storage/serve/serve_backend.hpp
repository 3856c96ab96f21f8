// A repository served by `obkeep serve --stdio` on another machine, reached through the
// operator's ssh: ssh://[user@]host[:port]/path (docs/serve-protocol.md).
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>

#include "storage/backend.hpp"
#include "storage/serve/serve_connection.hpp"
#include "storage/sftp/sftp_url.hpp"
#include "storage/ssh/ssh_control_directory.hpp"
#include "storage/ssh/ssh_pool.hpp"

namespace obkeep::storage {

// Each call pipelines its requests (a save goes out as pieces without waiting, a long read
// as pieces in flight together), and calls run concurrently over up to
// OBKEEP_SFTP_CONNECTIONS sessions. A call whose connection is lost is repeated on a new
// one: every call is safe to repeat, a save too (an append-only server accepts a save of a
// name that exists when the bytes are the same).
class ServeBackend : public Backend {
 public:
  // Connects once (so a bad URL, host key, key or path fails here). Throws Error with
  // ExitCode::no_repository when the server cannot be reached.
  explicit ServeBackend(const std::string& url);
  ~ServeBackend() override;

  std::string location() const override { return url_; }
  void create() override;
  void save(const Handle& handle, ByteView data) override;
  Bytes load(const Handle& handle, uint64_t offset, uint64_t length) override;
  void read(const Handle& handle, uint64_t offset, uint64_t length, const std::function<void(ByteView)>& use) override;
  void read_into(const Handle& handle, uint64_t offset, std::span<uint8_t> out) override;
  std::optional<uint64_t> stat(const Handle& handle) override;
  void remove(const Handle& handle) override;
  void list(FileType type, const std::function<void(const std::string&, uint64_t)>& visit) override;
  size_t remove_temporaries() override;
  size_t background_saves() const override { return pool_->max_connections(); }
  bool remote() const override { return true; }
  bool append_only() const override { return append_only_; }
  std::string protection() override { return append_only_ ? "append-only (obkeep serve --append-only)" : "none"; }

 private:
  std::shared_ptr<ServeConnection> connect(const std::atomic<bool>* cancelled);
  // Throws the Error a reply other than ok stands for, naming `handle`.
  [[noreturn]] void fail(const ServeReply& reply, const std::string& what) const;
  // Reads `length` bytes at `offset` into `out`, in pieces in flight together.
  void read_range(ServeConnection& connection, const Handle& handle, uint64_t offset, uint8_t* out,
                  uint64_t length) const;

  std::string url_;
  SftpUrl parsed_;
  std::string endpoint_;  // user@host:port, for messages
  std::string remote_command_;
  std::chrono::seconds stall_limit_;
  std::atomic<bool> append_only_{false};  // as the server said in its hello
  SshControlDirectory control_;  // before the pool: removed after its connections end
  std::unique_ptr<SshPool<ServeConnection>> pool_;
  // In append-only mode a server lets a session remove only the locks it saved itself, so
  // a lock is removed through the connection that saved it.
  std::mutex locks_mutex_;
  std::map<std::string, std::weak_ptr<ServeConnection>> lock_sessions_;
};

}  // namespace obkeep::storage
