// One SFTP session over an ssh process, shared by many threads, with many requests in
// flight. SFTP numbers its requests and the server answers each by its number, so a
// sender need not wait for one answer before sending the next request: a transfer is
// bounded by the link's bandwidth, not by its round trip. The transport (senders under a
// lock, one reader thread, stalls and lost connections) is ssh/ssh_channel.hpp's.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <map>
#include <optional>
#include <vector>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>

#include "storage/sftp/sftp_protocol.hpp"
#include "storage/ssh/ssh_channel.hpp"

namespace obkeep::storage {

// A lost connection may be retried; a stalled one is given up (ssh/ssh_channel.hpp).
using SftpConnectionLost = SshConnectionLost;
using SftpConnectionStalled = SshConnectionStalled;

struct SftpReply {
  sftp::Message type;
  Bytes body;              // after the request id; empty for data that went to `into`
  size_t data_length = 0;  // bytes a data reply put into the request's `into`
  sftp::Status status() const;  // the code of a status reply; ProtocolError for others
};

// Open handles of immutable objects (packs), kept for the next read of the same object:
// a read then costs one round trip instead of two (open, then read). Least recently used
// handles not in use are closed beyond `capacity`. Thread-safe; a handle may be in use by
// several readers at once (SFTP reads name their offset).
class SftpHandleCache {
 public:
  explicit SftpHandleCache(size_t capacity) : capacity_(capacity) {}
  // Whether a handle for `path` is kept.
  bool holds(const std::string& path) const;
  // A kept handle for `path`, now in use; nullopt when none is kept.
  std::optional<std::string> take(const std::string& path);
  // After a read: `handle` (taken, or freshly opened) is kept, or returned to be closed,
  // along with any handle evicted for it.
  std::vector<std::string> give_back(const std::string& path, const std::string& handle);
  // A kept handle that failed: never handed out again.
  void forget(const std::string& path);

 private:
  struct Kept {
    std::string handle;
    int users = 0;
    uint64_t last_use = 0;
  };
  mutable std::mutex mutex_;
  std::map<std::string, Kept> kept_;
  uint64_t clock_ = 0;
  size_t capacity_;
};

class SftpConnection : public SshChannel {
 public:
  // Starts ssh and the SFTP handshake. Throws Error as ssh_failure() describes when the
  // server cannot be reached or refuses us. `stall_limit`: requests are outstanding and no
  // byte moved either way for that long → the connection is ended as stalled.
  // `cancelled`, when given and set, abandons the handshake (the owner is going away).
  SftpConnection(const SshTarget& target, std::string endpoint, std::chrono::seconds stall_limit,
                 const std::atomic<bool>* cancelled = nullptr);
  ~SftpConnection() override;

  // Sends a request whose fields `fields` writes after the id; `tail` is sent right after
  // as the end of the same message (a write's data). A data reply is copied into `into`
  // (which must stay valid until wait() returns). Returns the request's id. Throws the
  // connection's failure once it has failed.
  uint32_t send(sftp::Message type, const std::function<void(sftp::MessageWriter&)>& fields, ByteView tail = {},
                std::span<uint8_t> into = {});
  // As send(), but nobody waits: the reply is dropped (a close after reads).
  void send_and_forget(sftp::Message type, const std::function<void(sftp::MessageWriter&)>& fields);
  // Waits for the reply to `id`. Throws the connection's failure, or Error(interrupted) on
  // SIGINT/SIGTERM.
  SftpReply wait(uint32_t id);

  // Forgets a request whose reply is no longer wanted; its `into` is not touched after this.
  void abandon(uint32_t id);

  // The longest read and write the server accepts (limits@openssh.com, else safe sizes);
  // the first call waits for the limits' answer.
  uint32_t max_read() {
    settle_limits();
    return max_read_;
  }
  uint32_t max_write() {
    settle_limits();
    return max_write_;
  }
  bool has_extension(const std::string& name) const { return extensions_.count(name) != 0; }
  // The link's round trip: the limits request's, once answered (the version exchange's
  // includes ssh's handshake and the start of the server's sftp process).
  std::chrono::microseconds link_round_trip(const std::atomic<bool>* cancelled = nullptr);
  SftpHandleCache handles{32};

 private:
  struct Slot {
    std::span<uint8_t> into;
    bool forget = false;
    bool done = false;
    SftpReply reply;
  };
  void deliver(ByteView message) override;
  bool awaiting_replies() const override { return !pending_.empty() || !limits_known_; }
  bool connected() const override { return version_received_; }
  void check_length(uint32_t length) const override;
  void ask_limits();
  void settle_limits(const std::atomic<bool>* cancelled = nullptr);

  std::map<std::string, std::string> extensions_;
  uint32_t max_read_ = 64 * 1024, max_write_ = 64 * 1024;
  void apply_limits(sftp::MessageReader& limits);

  // Under mutex_:
  std::map<uint32_t, Slot> pending_;
  uint32_t next_id_ = 1;
  bool version_received_ = false;
  uint32_t version_ = 0;
  // The limits@openssh.com request, answered in the reader thread (no slot waits for it).
  std::optional<uint32_t> limits_request_;
  std::chrono::steady_clock::time_point limits_asked_;
  bool limits_known_ = true;
};

}  // namespace obkeep::storage
