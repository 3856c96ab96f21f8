// Answering obkeep serve requests on a repository directory, and the session loop over
// the ssh channel (a reading thread, a pool of answering threads, one writer at a time).
#include "storage/serve/serve_server.hpp"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <deque>
#include <iostream>
#include <thread>
#include <vector>

#include "storage/object_layout.hpp"
#include "util/interrupt.hpp"

namespace obkeep::storage::serve {

namespace fs = std::filesystem;

namespace {

std::string describe(const Handle& handle) {
  if (handle.type == FileType::config) return "the config";
  return storage::to_string(handle.type) + " " + handle.name.substr(0, 8) + "…";
}

fs::path resolved(const fs::path& path) {
  std::error_code error;
  fs::path absolute = fs::absolute(path, error);
  if (error) return path.lexically_normal();
  fs::path canonical = fs::weakly_canonical(absolute, error);
  fs::path result = (error ? absolute : canonical).lexically_normal();
  if (!result.has_filename() && result != result.root_path()) result = result.parent_path();  // "repo/" is "repo"
  return result;
}

}  // namespace

ServeSession::ServeSession(ServeOptions options, std::function<void(ByteView, ByteView)> send)
    : options_(std::move(options)), local_(resolved(options_.repository)), send_(std::move(send)) {}

void ServeSession::reply_ok(uint32_t id, const std::function<void(FrameWriter&)>& fields) {
  FrameWriter reply(Kind::reply, id);
  reply.u8(static_cast<uint8_t>(Status::ok));
  if (fields) fields(reply);
  send_(reply.finish(), {});
}

void ServeSession::reply_error(uint32_t id, Status status, const std::string& message) {
  FrameWriter reply(Kind::reply, id);
  reply.u8(static_cast<uint8_t>(status)).string(message);
  send_(reply.finish(), {});
}

void ServeSession::reject(uint32_t, const std::string& message) { throw ProtocolError(message); }

void ServeSession::answer_or_fail(uint32_t id, const std::function<void()>& answer) {
  try {
    answer();
  } catch (const IntegrityError& e) {  // the local backend's word for a missing object
    reply_error(id, Status::not_found, e.what());
  } catch (const Error& e) {
    reply_error(id, Status::failed, e.what());
  }
}

void ServeSession::receive(ByteView frame, const std::function<void(std::function<void()>)>& run) {
  FrameReader reader(frame);
  Kind kind = reader.kind();
  uint32_t id = reader.u32();
  try {
    if (!greeted_ && kind != Kind::hello) reject(id, "the first request must be hello, not " + to_string(kind));
    switch (kind) {
      case Kind::hello:
        if (greeted_) reject(id, "a second hello");
        hello(id, reader);
        return;
      case Kind::create:
        reader.expect_end();
        return run([this, id] { create(id); });
      case Kind::save_begin: return save_begin(id, reader, run);
      case Kind::save_data: return save_data(id, reader, run);
      case Kind::load: {
        Handle handle = reader.handle();
        uint64_t offset = reader.u64(), length = reader.u64();
        reader.expect_end();
        return run([this, id, handle, offset, length] { load(id, handle, offset, length); });
      }
      case Kind::stat: {
        Handle handle = reader.handle();
        reader.expect_end();
        return run([this, id, handle] { stat(id, handle); });
      }
      case Kind::remove: {
        Handle handle = reader.handle();
        reader.expect_end();
        return run([this, id, handle] { remove(id, handle); });
      }
      case Kind::list: {
        uint8_t type = reader.u8();
        reader.expect_end();
        if (type > static_cast<uint8_t>(FileType::archive)) reject(id, "list of unknown object type " + std::to_string(type));
        return run([this, id, type] { list(id, static_cast<FileType>(type)); });
      }
      case Kind::remove_temporaries:
        reader.expect_end();
        return run([this, id] { remove_temporaries(id); });
      default: reject(id, "unknown request " + to_string(kind));
    }
  } catch (const ProtocolError& e) {
    reply_error(id, Status::bad_request, e.what());
    throw;
  }
}

// The client names the repository it means; the server's --repo wins, and a client that
// names another one is refused rather than silently given this one.
void ServeSession::hello(uint32_t id, FrameReader& reader) {
  if (reader.string() != magic) reject(id, "not an obkeep serve client (bad magic)");
  uint32_t version = reader.u32();
  std::string path = reader.string();
  reader.expect_end();
  if (version < 1) reject(id, "client speaks protocol version " + std::to_string(version) + ", this server needs 1");
  fs::path root = resolved(options_.repository);
  if (!path.empty() && resolved(path) != root)
    reject(id, "this server serves " + root.string() + ", not " + path + " (the repository is set by the server's --repo)");
  greeted_ = true;
  reply_ok(id, [&](FrameWriter& w) {
    w.u32(protocol_version).u32(options_.append_only ? flag_append_only : 0).u32(max_frame_length).string(root.string());
  });
}

void ServeSession::save_begin(uint32_t id, FrameReader& reader, const std::function<void(std::function<void()>)>& run) {
  Handle handle = reader.handle();
  uint64_t size = reader.u64();
  reader.expect_end();
  if (uploads_.count(id)) reject(id, "request id " + std::to_string(id) + " is already an open upload");
  if (uploads_.size() >= max_open_uploads) reject(id, "more than " + std::to_string(max_open_uploads) + " uploads open");
  if (size > max_object_size) reject(id, "object of " + std::to_string(size) + " bytes, over the limit");
  Upload& upload = uploads_[id];
  upload.handle = handle;
  upload.remaining = size;
  try {
    upload.file = std::make_shared<ServeUpload>(local_.path_of(handle), size);
  } catch (const Error& e) {
    upload.failure = e.what();  // answered once the client has sent the data it announced
  }
  if (size == 0) finish_upload(id, run);
}

void ServeSession::save_data(uint32_t id, FrameReader& reader, const std::function<void(std::function<void()>)>& run) {
  auto it = uploads_.find(id);
  if (it == uploads_.end()) reject(id, "data for request " + std::to_string(id) + ", which is no open upload");
  Upload& upload = it->second;
  ByteView piece = reader.rest();
  if (piece.size() > upload.remaining) reject(id, "more data than announced for " + describe(upload.handle));
  upload.remaining -= piece.size();
  if (upload.file) {
    try {
      upload.file->append(piece);
    } catch (const Error& e) {
      upload.failure = e.what();
      upload.file.reset();  // removes the temporary
    }
  }
  if (upload.remaining == 0) finish_upload(id, run);
}

// Every announced byte arrived: the temporary is placed by a worker (fsync takes time).
void ServeSession::finish_upload(uint32_t id, const std::function<void(std::function<void()>)>& run) {
  auto it = uploads_.find(id);
  Upload& upload = it->second;
  Handle handle = upload.handle;
  std::shared_ptr<ServeUpload> file = std::move(upload.file);
  std::string failure = upload.failure;
  uploads_.erase(it);
  if (!file) return reply_error(id, Status::failed, failure);
  run([this, id, handle, file] { commit(id, handle, file); });
}

void ServeSession::commit(uint32_t id, const Handle& handle, std::shared_ptr<ServeUpload> upload) {
  answer_or_fail(id, [&] {
    ServeUpload::Placed placed = upload->place(options_.append_only);
    if (placed == ServeUpload::Placed::differs)
      return reply_error(id, Status::refused, "refused to overwrite " + describe(handle) + " with different bytes");
    if (handle.type == FileType::lock && placed == ServeUpload::Placed::written) {
      std::lock_guard lock(mutex_);
      own_locks_.insert(handle.name);
    }
    reply_ok(id);
  });
}

// One piece of at most max_data_piece bytes; the client asks for the rest of a longer range.
void ServeSession::load(uint32_t id, const Handle& handle, uint64_t offset, uint64_t length) {
  answer_or_fail(id, [&] {
    std::optional<uint64_t> size = local_.stat(handle);
    if (!size) return reply_error(id, Status::not_found, "no " + describe(handle));
    if (offset > *size || (length && length > *size - offset))
      return reply_error(id, Status::short_object,
                         "short object " + describe(handle) + ": wanted " + std::to_string(offset + length) +
                             " bytes, has " + std::to_string(*size));
    uint64_t wanted = length ? length : *size - offset;
    uint32_t piece = static_cast<uint32_t>(std::min<uint64_t>(wanted, max_data_piece));
    auto send = [&](ByteView data) {
      FrameWriter reply(Kind::reply, id);
      reply.u8(static_cast<uint8_t>(Status::ok)).u64(*size).u32(piece);
      send_(reply.finish(piece), data);
    };
    if (piece == 0) return send({});
    local_.read(handle, offset, piece, send);
  });
}

void ServeSession::stat(uint32_t id, const Handle& handle) {
  answer_or_fail(id, [&] {
    std::optional<uint64_t> size = local_.stat(handle);
    if (!size) return reply_error(id, Status::not_found, "no " + describe(handle));
    reply_ok(id, [&](FrameWriter& w) { w.u64(*size); });
  });
}

// Append-only: nothing stored may go, except a lock this session wrote (a client must be
// able to release its own lock, and only its own: removing another's would let a prune
// run under a backup).
void ServeSession::remove(uint32_t id, const Handle& handle) {
  answer_or_fail(id, [&] {
    if (options_.append_only) {
      bool own = false;
      if (handle.type == FileType::lock) {
        std::lock_guard lock(mutex_);
        own = own_locks_.erase(handle.name) > 0;
      }
      if (!own)
        return reply_error(id, Status::refused,
                           "refused to remove " + describe(handle) +
                               (handle.type == FileType::lock ? " (a lock this session did not create)" : ""));
    }
    local_.remove(handle);
    reply_ok(id);
  });
}

void ServeSession::list(uint32_t id, FileType type) {
  answer_or_fail(id, [&] {
    std::vector<std::pair<std::string, uint64_t>> entries;
    local_.list(type, [&](const std::string& name, uint64_t size) { entries.emplace_back(name, size); });
    size_t start = 0;
    do {
      size_t end = std::min(entries.size(), start + list_page_entries);
      reply_ok(id, [&](FrameWriter& w) {
        w.u8(end < entries.size() ? 1 : 0).u32(static_cast<uint32_t>(end - start));
        for (size_t i = start; i < end; ++i) w.string(entries[i].first).u64(entries[i].second);
      });
      start = end;
    } while (start < entries.size());
  });
}

void ServeSession::create(uint32_t id) {
  answer_or_fail(id, [&] {
    if (local_.stat(Handle{FileType::config, "config"}))
      return reply_error(id, Status::exists, "a repository already exists at " + local_.location());
    local_.create();
    reply_ok(id);
  });
}

void ServeSession::remove_temporaries(uint32_t id) {
  answer_or_fail(id, [&] {
    if (options_.append_only) return reply_error(id, Status::refused, "refused to remove temporaries");
    uint64_t removed = local_.remove_temporaries();
    reply_ok(id, [&](FrameWriter& w) { w.u64(removed); });
  });
}

namespace {

// Answering threads with a bounded queue: the reader waits while it is full, so a client
// that sends faster than the disk answers is held back by the pipe, not by memory.
class Workers {
 public:
  explicit Workers(size_t count) {
    for (size_t i = 0; i < count; ++i) threads_.emplace_back([this] { work(); });
  }
  ~Workers() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    changed_.notify_all();
    for (std::thread& thread : threads_) thread.join();
  }
  void run(std::function<void()> job) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return jobs_.size() < 64; });
    jobs_.push_back(std::move(job));
    changed_.notify_all();
  }

 private:
  void work() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) return;  // stopping, and every queued request answered
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      changed_.notify_all();
      try {
        job();
      } catch (...) {
        // A reply that could not be written: the client is gone; the reader sees the end.
      }
    }
  }
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

void write_all(int fd, ByteView data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw_system_error("cannot write to the client", n < 0 ? errno : EIO);
    done += static_cast<size_t>(n);
  }
}

// Reads exactly `length` bytes; false at the end of the stream before the first byte.
bool read_exactly(int fd, uint8_t* out, size_t length) {
  size_t done = 0;
  while (done < length) {
    throw_if_interrupted();
    pollfd readable{fd, POLLIN, 0};
    if (::poll(&readable, 1, 100) == 0) continue;
    ssize_t n = ::read(fd, out + done, length - done);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) throw_system_error("cannot read from the client", errno);
    if (n == 0) {
      if (done == 0) return false;
      throw Error("the client ended the session in the middle of a frame");
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

int serve_session(const ServeOptions& options, int input, int output) {
  ::signal(SIGPIPE, SIG_IGN);  // a client gone is a failed write, not a killed server
  std::mutex send_mutex;
  ServeSession session(options, [&](ByteView frame, ByteView tail) {
    std::lock_guard lock(send_mutex);
    write_all(output, frame);
    if (!tail.empty()) write_all(output, tail);
  });
  try {
    Workers workers(std::max<size_t>(options.workers, 1));
    Bytes frame(max_frame_length);
    for (;;) {
      uint8_t header[4];
      if (!read_exactly(input, header, sizeof header)) return 0;
      uint32_t length = frame_length(header, "the client");
      read_exactly(input, frame.data(), length);
      // Before the hello nothing runs in parallel: the session is not set up yet.
      session.receive(ByteView(frame.data(), length), [&](std::function<void()> job) { workers.run(std::move(job)); });
    }
  } catch (const Error& e) {
    std::cerr << "obkeep serve: " << e.what() << "\n";
    return static_cast<int>(e.code() == ExitCode::interrupted ? ExitCode::interrupted : ExitCode::error);
  }
}

}  // namespace obkeep::storage::serve
