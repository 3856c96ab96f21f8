// The server side of obkeep serve (docs/serve-protocol.md): one session per client
// connection, on a repository directory, answering requests from a thread pool.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "storage/local/local_backend.hpp"
#include "storage/serve/serve_protocol.hpp"
#include "storage/serve/serve_upload.hpp"

namespace obkeep::storage::serve {

struct ServeOptions {
  std::filesystem::path repository;
  bool append_only = false;
  size_t workers = 4;  // requests answered at once
};

// The state of one client's session and the answer to each of its frames. Never trusts
// the client: every name, type, length and offset is checked before it is used, and a
// frame against the protocol ends the session (ProtocolError).
class ServeSession {
 public:
  // `send` writes one whole frame to the client; it is called from several threads.
  ServeSession(ServeOptions options, std::function<void(ByteView frame, ByteView tail)> send);

  // Handles one frame (without its length). Work that may run in parallel (reads, the
  // commit of an upload) is passed to `run`; the rest (a piece of an upload, which must be
  // written in order) is done before returning. Throws ProtocolError after answering
  // bad_request when the frame is against the protocol.
  void receive(ByteView frame, const std::function<void(std::function<void()>)>& run);
  bool greeted() const { return greeted_; }

 private:
  void hello(uint32_t id, FrameReader& reader);
  void save_begin(uint32_t id, FrameReader& reader, const std::function<void(std::function<void()>)>& run);
  void save_data(uint32_t id, FrameReader& reader, const std::function<void(std::function<void()>)>& run);
  void finish_upload(uint32_t id, const std::function<void(std::function<void()>)>& run);
  void commit(uint32_t id, const Handle& handle, std::shared_ptr<ServeUpload> upload);
  void load(uint32_t id, const Handle& handle, uint64_t offset, uint64_t length);
  void stat(uint32_t id, const Handle& handle);
  void remove(uint32_t id, const Handle& handle);
  void list(uint32_t id, FileType type);
  void create(uint32_t id);
  void remove_temporaries(uint32_t id);
  // Runs `answer`, turning an Error it throws into a reply of `failed` (or not_found).
  void answer_or_fail(uint32_t id, const std::function<void()>& answer);
  void reply_ok(uint32_t id, const std::function<void(FrameWriter&)>& fields = {});
  void reply_error(uint32_t id, Status status, const std::string& message);
  [[noreturn]] void reject(uint32_t id, const std::string& message);

  ServeOptions options_;
  LocalBackend local_;
  std::function<void(ByteView, ByteView)> send_;
  bool greeted_ = false;

  struct Upload {
    Handle handle;
    std::shared_ptr<ServeUpload> file;  // null once a write failed: the rest is read and dropped
    uint64_t remaining = 0;
    std::string failure;
  };
  std::map<uint32_t, Upload> uploads_;  // only the reading thread touches these

  std::mutex mutex_;  // guards own_locks_
  std::set<std::string> own_locks_;  // locks this session saved: the only ones it may remove
};

// Serves one session on `input`/`output` (the ssh channel) until the client closes it, a
// frame breaks the protocol, or a signal. Returns the exit code; errors go to stderr in
// one line.
int serve_session(const ServeOptions& options, int input, int output);

}  // namespace obkeep::storage::serve
