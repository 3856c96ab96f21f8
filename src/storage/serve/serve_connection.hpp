// One obkeep serve session over an ssh process, shared by many threads with many requests
// in flight (the server answers each by its id, possibly out of order).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "storage/serve/serve_protocol.hpp"
#include "storage/ssh/ssh_channel.hpp"

namespace obkeep::storage {

struct ServeReply {
  serve::Status status = serve::Status::ok;
  std::string message;       // what the server said, for an error
  Bytes body;                // the fields after the status, for ok
  std::vector<Bytes> pages;  // a listing: every page's body (after its "more" byte)
};

class ServeConnection : public SshChannel, public std::enable_shared_from_this<ServeConnection> {
 public:
  // Starts `ssh host remote_command` and says hello, naming `path` (empty: whatever the
  // server serves). Throws Error as ssh_failure() describes when the server cannot be
  // reached or refuses us, and Error when the server refuses the hello (another
  // repository, an old protocol). `cancelled`, when set, abandons the handshake.
  ServeConnection(const SshTarget& target, std::string endpoint, const std::string& remote_command,
                  const std::string& path, std::chrono::seconds stall_limit,
                  const std::atomic<bool>* cancelled = nullptr);
  ~ServeConnection() override;

  // Sends a request whose fields `fields` writes after the id; `tail` is the end of the
  // same frame. Returns its id. Throws the connection's failure once it has failed.
  uint32_t send(serve::Kind kind, const std::function<void(serve::FrameWriter&)>& fields, ByteView tail = {});
  // Sends a save: its announcement, then the data in pieces (other requests may go
  // between them). Returns the id the one reply will carry.
  uint32_t send_save(const Handle& handle, ByteView data);
  // Waits for the reply to `id`. Throws the connection's failure, or Error(interrupted).
  ServeReply wait(uint32_t id);
  // Forgets a request whose reply is no longer wanted.
  void abandon(uint32_t id);

  bool append_only() const { return append_only_; }
  // The repository the server serves (its --repo), for messages.
  const std::string& repository() const { return repository_; }

 private:
  struct Slot {
    bool list = false;  // a listing: replies come in pages
    bool done = false;
    ServeReply reply;
  };
  uint32_t open_slot(bool list);
  void send_frame(ByteView head, ByteView tail);
  void deliver(ByteView message) override;
  bool awaiting_replies() const override { return !pending_.empty(); }
  bool connected() const override { return greeted_; }
  void check_length(uint32_t length) const override;

  std::map<uint32_t, Slot> pending_;  // under mutex_
  uint32_t next_id_ = 1;
  bool greeted_ = false;
  bool append_only_ = false;
  std::string repository_;
};

}  // namespace obkeep::storage
