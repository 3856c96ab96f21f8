// A repository behind `obkeep serve`: each Backend call a few pipelined requests on a
// pooled session.
#include "storage/serve/serve_backend.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <deque>

#include "storage/object_layout.hpp"
#include "storage/read_buffer.hpp"

namespace obkeep::storage {

using serve::FrameReader;
using serve::FrameWriter;
using serve::Kind;
using serve::Status;

namespace {

// Pieces of a long read in flight at once (4 MiB each): a pack's range in one round trip.
constexpr size_t read_window = 16;

// One word for the remote shell, whatever the path holds.
std::string shell_quote(const std::string& word) {
  std::string quoted = "'";
  for (char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

std::string describe(const Handle& handle) {
  if (handle.type == FileType::config) return "the config";
  return to_string(handle.type) + " " + handle.name.substr(0, 8) + "…";
}

}  // namespace

ServeBackend::ServeBackend(const std::string& url) : url_(url), parsed_(parse_sftp_url(url, "ssh://")) {
  if (parsed_.path == "/") parsed_.path.clear();  // ssh://host/: the repository the server's key names
  endpoint_ = storage::describe(SshTarget{parsed_.user, parsed_.host, parsed_.port, {}});
  const char* command = std::getenv("OBKEEP_REMOTE_COMMAND");
  remote_command_ = std::string(command && *command ? command : "obkeep") + " serve --stdio";
  if (!parsed_.path.empty()) remote_command_ += " --repo " + shell_quote(parsed_.path);
  // The SFTP settings hold for every repository reached through ssh.
  stall_limit_ = std::chrono::seconds(ssh_setting("OBKEEP_SFTP_STALL_SECONDS", 300, 1, 86400));
  size_t connections = static_cast<size_t>(ssh_setting("OBKEEP_SFTP_CONNECTIONS", 4, 1, 32));
  pool_ = std::make_unique<SshPool<ServeConnection>>(
      [this](const std::atomic<bool>* cancelled) { return connect(cancelled); }, connections);
}

ServeBackend::~ServeBackend() { pool_.reset(); }

std::shared_ptr<ServeConnection> ServeBackend::connect(const std::atomic<bool>* cancelled) {
  auto connection = control_.connect(
      [&](const std::string& socket_path) {
        return std::make_shared<ServeConnection>(SshTarget{parsed_.user, parsed_.host, parsed_.port, socket_path},
                                                 endpoint_, remote_command_, parsed_.path, stall_limit_, cancelled);
      },
      cancelled);
  append_only_ = connection->append_only();
  return connection;
}

void ServeBackend::fail(const ServeReply& reply, const std::string& what) const {
  switch (reply.status) {
    case Status::not_found: throw IntegrityError("cannot " + what + " " + url_ + ": " + reply.message);
    case Status::refused: throw AppendOnlyRefusal(url_ + ": the site is append-only: " + reply.message);
    case Status::exists: throw Error("a repository already exists at " + url_);
    default: throw Error("cannot " + what + " " + url_ + ": " + reply.message);
  }
}

void ServeBackend::create() {
  pool_->with_connection([&](const std::shared_ptr<ServeConnection>& connection) {
    ServeReply reply = connection->wait(connection->send(Kind::create, [](FrameWriter&) {}));
    if (reply.status != Status::ok) fail(reply, "create a repository at");
  });
}

void ServeBackend::save(const Handle& handle, ByteView data) {
  if (!valid_object_name(handle)) throw Error("invalid object name: " + handle.name);
  pool_->with_connection([&](const std::shared_ptr<ServeConnection>& connection) {
    ServeReply reply = connection->wait(connection->send_save(handle, data));
    if (reply.status != Status::ok) fail(reply, "save " + describe(handle) + " to");
    if (handle.type == FileType::lock) {
      std::lock_guard lock(locks_mutex_);
      lock_sessions_[handle.name] = connection;
    }
  });
}

void ServeBackend::read_range(ServeConnection& connection, const Handle& handle, uint64_t offset, uint8_t* out,
                              uint64_t length) const {
  struct Piece {
    uint32_t id;
    uint64_t offset, length;
  };
  std::deque<Piece> in_flight;
  // A failure returns while pieces are in flight: their replies are dropped when they come.
  struct Abandon {
    ServeConnection& connection;
    std::deque<Piece>& pieces;
    ~Abandon() {
      for (const Piece& piece : pieces) connection.abandon(piece.id);
    }
  } abandon{connection, in_flight};
  uint64_t next = offset, end = offset + length;
  while (next < end || !in_flight.empty()) {
    while (in_flight.size() < read_window && next < end) {
      uint64_t at = next, size = std::min<uint64_t>(serve::max_data_piece, end - next);  // named: captured below
      uint32_t id = connection.send(Kind::load, [&](FrameWriter& w) { w.handle(handle).u64(at).u64(size); });
      in_flight.push_back({id, at, size});
      next += size;
    }
    Piece piece = in_flight.front();
    ServeReply reply = connection.wait(piece.id);
    in_flight.pop_front();
    if (reply.status != Status::ok) fail(reply, "read " + describe(handle) + " from");
    FrameReader fields(reply.body);
    fields.u64();  // the object's size
    ByteView data = fields.bytes();
    if (data.size() != piece.length)
      throw serve::ProtocolError("obkeep serve on " + endpoint_ + " sent " + std::to_string(data.size()) + " bytes of " +
                                 describe(handle) + " for " + std::to_string(piece.length));
    std::memcpy(out + (piece.offset - offset), data.data(), data.size());
  }
}

Bytes ServeBackend::load(const Handle& handle, uint64_t offset, uint64_t length) {
  return pool_->with_connection([&](const std::shared_ptr<ServeConnection>& connection) {
    // The first piece brings the object's size; the rest of a longer object follows in
    // pieces in flight together.
    ServeReply reply = connection->wait(connection->send(Kind::load, [&](FrameWriter& w) {
      w.handle(handle).u64(offset).u64(length ? std::min<uint64_t>(length, serve::max_data_piece) : 0);
    }));
    if (reply.status != Status::ok) fail(reply, "load " + describe(handle) + " from");
    FrameReader fields(reply.body);
    uint64_t size = fields.u64();
    ByteView first = fields.bytes();
    uint64_t wanted = length ? length : size - std::min(offset, size);
    if (first.size() > wanted || offset + wanted > size)
      throw serve::ProtocolError("obkeep serve on " + endpoint_ + " sent more of " + describe(handle) + " than asked for");
    Bytes data(wanted);
    std::memcpy(data.data(), first.data(), first.size());
    if (first.size() < wanted)
      read_range(*connection, handle, offset + first.size(), data.data() + first.size(), wanted - first.size());
    return data;
  });
}

// Like the local backend, reads land in a reused per-thread buffer; `use` runs after the
// connection is released, so decrypting does not hold it.
void ServeBackend::read(const Handle& handle, uint64_t offset, uint64_t length,
                        const std::function<void(ByteView)>& use) {
  std::span<uint8_t> buffer(thread_read_buffer(length), static_cast<size_t>(length));
  read_into(handle, offset, buffer);
  use(buffer);
}

void ServeBackend::read_into(const Handle& handle, uint64_t offset, std::span<uint8_t> out) {
  if (out.empty()) return;
  pool_->with_connection([&](const std::shared_ptr<ServeConnection>& connection) {
    read_range(*connection, handle, offset, out.data(), out.size());
  });
}

std::optional<uint64_t> ServeBackend::stat(const Handle& handle) {
  return pool_->with_connection([&](const std::shared_ptr<ServeConnection>& connection) -> std::optional<uint64_t> {
    ServeReply reply = connection->wait(connection->send(Kind::stat, [&](FrameWriter& w) { w.handle(handle); }));
    if (reply.status == Status::not_found) return std::nullopt;
    if (reply.status != Status::ok) fail(reply, "stat " + describe(handle) + " on");
    return FrameReader(reply.body).u64();
  });
}

void ServeBackend::remove(const Handle& handle) {
  auto removal = [&](ServeConnection& connection) {
    ServeReply reply = connection.wait(connection.send(Kind::remove, [&](FrameWriter& w) { w.handle(handle); }));
    if (reply.status != Status::ok) fail(reply, "remove " + describe(handle) + " from");
  };
  if (handle.type == FileType::lock) {
    std::shared_ptr<ServeConnection> saver;
    {
      std::lock_guard lock(locks_mutex_);
      auto it = lock_sessions_.find(handle.name);
      if (it != lock_sessions_.end()) {
        saver = it->second.lock();
        lock_sessions_.erase(it);
      }
    }
    // Not retried elsewhere: an append-only server lets only the saving session remove it.
    if (saver && !saver->failed()) return removal(*saver);
  }
  pool_->with_connection([&](const std::shared_ptr<ServeConnection>& connection) { removal(*connection); });
}

void ServeBackend::list(FileType type, const std::function<void(const std::string&, uint64_t)>& visit) {
  // Not holding the connection while visiting: `visit` may call the backend.
  std::vector<Bytes> pages = pool_->with_connection([&](const std::shared_ptr<ServeConnection>& connection) {
    ServeReply reply = connection->wait(connection->send(Kind::list, [&](FrameWriter& w) { w.u8(static_cast<uint8_t>(type)); }));
    if (reply.status != Status::ok) fail(reply, "list " + to_string(type) + " objects of");
    return std::move(reply.pages);
  });
  for (const Bytes& page : pages) {
    FrameReader entries(page);
    uint32_t count = entries.u32();
    for (uint32_t i = 0; i < count; ++i) {
      std::string name = entries.string();
      uint64_t size = entries.u64();
      if (valid_object_name(Handle{type, name})) visit(name, size);
    }
  }
}

// Append-only: nothing is deleted, temporaries included (the server would refuse).
size_t ServeBackend::remove_temporaries() {
  if (append_only_) return 0;
  return pool_->with_connection([&](const std::shared_ptr<ServeConnection>& connection) {
    ServeReply reply = connection->wait(connection->send(Kind::remove_temporaries, [](FrameWriter&) {}));
    if (reply.status != Status::ok) fail(reply, "remove temporaries of");
    return static_cast<size_t>(FrameReader(reply.body).u64());
  });
}

}  // namespace obkeep::storage
