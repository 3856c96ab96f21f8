// A repository on an SFTP server: the local backend's layout and save protocol, each call
// a pipeline of SFTP requests.
#include "storage/sftp/sftp_backend.hpp"

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <thread>

#include "crypto/aead.hpp"
#include "storage/object_layout.hpp"
#include "storage/read_buffer.hpp"
#include "storage/transfer_pacer.hpp"
#include "util/error.hpp"
#include "util/interrupt.hpp"

namespace obkeep::storage {

using sftp::Message;
using sftp::MessageWriter;

namespace {

// Requests one call keeps in flight: enough to fill a long link (64 writes of 64 KiB are
// 4 MiB, twice what OpenSSH's flow-control window lets through per round trip).
constexpr size_t window = 64;

// A large object is written in stripes of at least this size by idle connections, at most
// this many beside the one saving it.
constexpr size_t smallest_stripe = 4 << 20;
constexpr size_t most_stripe_helpers = 3;

std::string parent_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string random_suffix() {
  uint8_t random[8];
  crypto::random_bytes(random, sizeof random);
  return to_hex(ByteView(random, sizeof random));
}

// How messages name a server path: the URL form, "/~/" marking a login-relative path.
std::string describe_path(const std::string& endpoint, const std::string& path) {
  return "sftp://" + endpoint + (path.rfind('/', 0) == 0 ? path : "/~/" + path);
}

struct Entry {
  std::string name;
  uint64_t size;
  bool is_directory;
};

}  // namespace

// Requests over one connection; each names the path at fault in its errors.
struct SftpBackend::Remote {
  SftpConnection& connection;
  const std::string& endpoint;

  std::string describe(const std::string& path) const { return describe_path(endpoint, path); }

  [[noreturn]] void fail(const std::string& what, const std::string& path, sftp::Status status) const {
    throw Error("cannot " + what + " " + describe(path) + ": " + sftp::to_string(status));
  }

  uint32_t send_path(Message type, const std::string& path) const {
    return connection.send(type, [&](MessageWriter& m) { m.string(path); });
  }

  void close(const std::string& handle) const {
    connection.send_and_forget(Message::close, [&](MessageWriter& m) { m.string(handle); });
  }

  // Removes what a failed save leaves, and waits for it: a server drops the requests it has
  // not read when the session ends (OpenSSH's sftp-server exits at the end of its input),
  // so a removal sent and forgotten on the way out is often not done. Never throws; runs
  // after a signal too.
  void remove_leftover(const std::string& path) const noexcept {
    CleanupAfterSignal cleaning;
    try {
      connection.wait(send_path(Message::remove, path));
    } catch (...) {
      // Left for prune's remove_temporaries (a temporary) or ignored as damaged (a lock).
    }
  }

  std::string take_handle(const SftpReply& reply, const std::string& what, const std::string& path) const {
    if (reply.type != Message::handle) fail(what, path, reply.status());
    return sftp::MessageReader(reply.body).string();
  }

  uint32_t send_open(const std::string& path, uint32_t flags) const {
    return connection.send(Message::open, [&](MessageWriter& m) {
      m.string(path).u32(flags);
      if (flags & sftp::open_create)
        m.permissions(0444);
      else
        m.no_attributes();
    });
  }

  std::optional<sftp::Attributes> take_attributes(const SftpReply& reply, const std::string& path) const {
    if (reply.type == Message::attrs) return sftp::MessageReader(reply.body).attributes();
    if (reply.status() == sftp::Status::no_such_file) return std::nullopt;
    fail("stat", path, reply.status());
  }

  std::optional<sftp::Attributes> stat(const std::string& path) const {
    return take_attributes(connection.wait(send_path(Message::stat, path)), path);
  }

  // mkdir -p: the folder itself first (its parent usually exists: one round trip), else
  // each missing component, tolerating ones that exist (or appear meanwhile).
  void make_directories(const std::string& path) const {
    if (make_directory(path)) return;
    for (size_t end = path.find('/', 1);; end = path.find('/', end + 1)) {
      std::string prefix = path.substr(0, end);
      if (!prefix.empty() && prefix != "." && !make_directory(prefix)) {
        auto existing = stat(prefix);
        if (!existing || !existing->is_directory()) fail("create", prefix, sftp::Status::failure);
      }
      if (end == std::string::npos) return;
    }
  }

  bool make_directory(const std::string& path) const {
    SftpReply reply = connection.wait(connection.send(Message::mkdir, [&](MessageWriter& m) { m.string(path).permissions(0700); }));
    return reply.status() == sftp::Status::ok;
  }

  // Writes `data` at `offset` of the open file `handle` with up to `window` requests in
  // flight and fsyncs it (the request sent behind the writes, answered with them); on a
  // failure the handle is closed and the error names `path`.
  void write_synced(const std::string& handle, const std::string& path, uint64_t offset, ByteView data) const {
    std::deque<uint32_t> writes;
    sftp::Status failed = sftp::Status::ok;
    auto collect = [&] {
      sftp::Status status = connection.wait(writes.front()).status();
      writes.pop_front();
      if (failed == sftp::Status::ok) failed = status;
    };
    size_t chunk = connection.max_write();
    for (size_t done = 0; done < data.size(); done += chunk) {
      if (writes.size() >= window) collect();
      ByteView piece = data.subspan(done, std::min(chunk, data.size() - done));
      pace_transfer(piece.size());  // a bandwidth limit paces the pieces, not whole packs
      uint64_t at = offset + done;
      writes.push_back(connection.send(
          Message::write, [&](MessageWriter& m) { m.string(handle).u64(at).u32(static_cast<uint32_t>(piece.size())); },
          piece));
    }
    // Without the extension the bytes reach the server's disk when its kernel writes them
    // back; a crash of the server in between can lose an object that save() reported.
    std::optional<uint32_t> fsync;
    if (connection.has_extension("fsync@openssh.com"))
      fsync = connection.send(Message::extended, [&](MessageWriter& m) { m.string("fsync@openssh.com").string(handle); });
    while (!writes.empty()) collect();
    if (failed != sftp::Status::ok) {
      close(handle);
      fail("write", path, failed);
    }
    if (fsync && (failed = connection.wait(*fsync).status()) != sftp::Status::ok) {
      close(handle);
      fail("fsync", path, failed);
    }
  }

  // A stripe of a file another connection created: through a handle of this connection.
  void write_stripe(const std::string& path, uint64_t offset, ByteView data) const {
    std::string handle = take_handle(connection.wait(send_open(path, sftp::open_write)), "open", path);
    write_synced(handle, path, offset, data);
    close(handle);
  }

  // Creates `temporary`, writes and fsyncs it, then closes and renames it to `target` in one
  // round trip. The rename waits for the writes' answers: sent with them, it would put a
  // file whose write failed (a full disk) in place under its final name. Each of `helpers`
  // (idle connections) writes a stripe at the same time: one connection moves at most its
  // flow-control window a round trip, so a large pack to a far site goes up several times
  // faster in stripes. The rename waits for `ready()` too.
  void write_file(const std::string& temporary, const std::string& target, ByteView data,
                  const std::vector<Remote>& helpers, const std::function<void()>& ready) const {
    std::string handle = take_handle(connection.wait(send_open(temporary, sftp::open_write | sftp::open_create | sftp::open_exclusive)),
                                     "create", temporary);
    size_t stripe = (data.size() + helpers.size()) / (helpers.size() + 1);
    std::vector<std::exception_ptr> failures(helpers.size() + 1);
    {
      std::vector<std::jthread> striping;  // joined before the handle is closed, on every path
      for (size_t i = 0; i < helpers.size(); ++i)
        striping.emplace_back([&, i] {
          try {
            uint64_t offset = (i + 1) * stripe;
            if (offset >= data.size()) return;
            helpers[i].write_stripe(temporary, offset, data.subspan(offset, std::min<uint64_t>(stripe, data.size() - offset)));
          } catch (...) {
            failures[i + 1] = std::current_exception();
          }
        });
      try {
        write_synced(handle, temporary, 0, data.first(std::min(stripe, data.size())));
      } catch (...) {
        failures[0] = std::current_exception();
      }
    }
    for (size_t i = 1; i < failures.size(); ++i)
      if (failures[i] && !failures[0]) {
        close(handle);
        std::rethrow_exception(failures[i]);
      }
    if (failures[0]) std::rethrow_exception(failures[0]);
    try {
      ready();  // what must be in place first (Backend::save_after)
    } catch (...) {
      close(handle);
      throw;
    }
    uint32_t closing = connection.send(Message::close, [&](MessageWriter& m) { m.string(handle); });
    uint32_t renaming = connection.send(Message::rename, [&](MessageWriter& m) { m.string(temporary).string(target); });
    sftp::Status closed = connection.wait(closing).status();
    sftp::Status renamed = connection.wait(renaming).status();
    if (closed != sftp::Status::ok) fail("close", temporary, closed);
    if (renamed != sftp::Status::ok) {
      // SFTP v3's rename refuses an existing target. Names are content ids (locks are
      // unique), so an object already there holds these bytes: keep it and drop ours.
      if (!stat(target)) fail("rename " + describe(temporary) + " to", target, renamed);
      remove_leftover(temporary);
    }
  }

  // Creates `target` and writes it, the writes and the close sent together: two round trips
  // where a save through a temporary takes three. For locks only: a lock read half-written
  // is damaged, and listers ignore it, while its taker lists the others only once it is
  // whole, so of two takers that conflict the one that lists later sees the other's lock
  // whole (repo/lock.cpp). Not fsynced: a lock guards a live process, which a crash of the
  // server ends anyway. Truncated, not created exclusively: a lock's name is its content's
  // hash, and a save repeated on a new connection (the first cut after the open) rewrites it.
  void write_in_place(const std::string& target, ByteView data) const {
    std::string handle = take_handle(connection.wait(send_open(target, sftp::open_write | sftp::open_create | sftp::open_truncate)),
                                     "create", target);
    std::vector<uint32_t> sent;
    size_t chunk = connection.max_write();
    for (size_t done = 0; done < data.size(); done += chunk) {
      ByteView piece = data.subspan(done, std::min(chunk, data.size() - done));
      sent.push_back(connection.send(
          Message::write, [&](MessageWriter& m) { m.string(handle).u64(done).u32(static_cast<uint32_t>(piece.size())); },
          piece));
    }
    sent.push_back(connection.send(Message::close, [&](MessageWriter& m) { m.string(handle); }));
    std::optional<sftp::Status> failed;
    for (uint32_t id : sent)
      if (sftp::Status status = connection.wait(id).status(); status != sftp::Status::ok && !failed) failed = status;
    if (failed) {
      remove_leftover(target);
      fail("write", target, *failed);
    }
  }

  // Reads exactly `length` bytes at `offset` of an open file into `out`, with up to
  // `window` reads in flight; a read answered short is continued.
  void read_range(const std::string& handle, const std::string& path, uint64_t offset, uint8_t* out,
                  uint64_t length) const {
    struct Piece {
      uint32_t id;
      uint64_t offset, length;
    };
    std::deque<Piece> in_flight;
    std::deque<std::pair<uint64_t, uint64_t>> todo;  // (offset, length), short answers first
    uint64_t chunk = connection.max_read();
    for (uint64_t at = offset; at < offset + length; at += chunk) todo.emplace_back(at, std::min(chunk, offset + length - at));
    // A failure returns while reads are in flight into `out`: they must not land later.
    struct Abandon {
      SftpConnection& connection;
      std::deque<Piece>& pieces;
      ~Abandon() {
        for (const Piece& piece : pieces) connection.abandon(piece.id);
      }
    } abandon{connection, in_flight};
    while (!todo.empty() || !in_flight.empty()) {
      while (in_flight.size() < window && !todo.empty()) {
        uint64_t at = todo.front().first, size = todo.front().second;  // named: captured below
        todo.pop_front();
        uint32_t id = connection.send(
            Message::read, [&](MessageWriter& m) { m.string(handle).u64(at).u32(static_cast<uint32_t>(size)); }, {},
            std::span<uint8_t>(out + (at - offset), size));
        in_flight.push_back({id, at, size});
      }
      Piece piece = in_flight.front();
      SftpReply reply = connection.wait(piece.id);
      in_flight.pop_front();
      if (reply.type == Message::data) {
        if (reply.data_length == 0) throw sftp::ProtocolError("empty read from " + describe(path));
        if (reply.data_length < piece.length)
          todo.emplace_front(piece.offset + reply.data_length, piece.length - reply.data_length);
        continue;
      }
      sftp::Status status = reply.status();
      if (status == sftp::Status::eof)
        throw Error("short object " + describe(path) + ": wanted " + std::to_string(offset + length) + " bytes, has " +
                    std::to_string(piece.offset));
      fail("read", path, status);
    }
  }

  // The entries of several folders (other than "." and ".."), listed together: one round
  // trip per page of entries, not per folder. A missing folder lists empty.
  std::vector<std::vector<Entry>> list(const std::vector<std::string>& folders) const {
    std::vector<std::vector<Entry>> entries(folders.size());
    std::vector<uint32_t> opening;
    for (const std::string& folder : folders) opening.push_back(send_path(Message::opendir, folder));
    std::vector<std::pair<size_t, std::string>> open;  // (folder index, handle)
    for (size_t i = 0; i < folders.size(); ++i) {
      SftpReply reply = connection.wait(opening[i]);
      if (reply.type == Message::handle) {
        open.emplace_back(i, sftp::MessageReader(reply.body).string());
      } else if (reply.status() != sftp::Status::no_such_file) {
        for (auto& [index, handle] : open) close(handle);
        fail("list", folders[i], reply.status());
      }
    }
    // Two pages asked at a time: a folder of fewer than a page (OpenSSH sends 100 names)
    // then ends in the same round trip, its second answer the end of the listing.
    while (!open.empty()) {
      std::vector<std::pair<uint32_t, uint32_t>> reading;
      for (const auto& [index, handle] : open) {
        uint32_t first = send_path(Message::readdir, handle);  // in this order on the wire
        reading.emplace_back(first, send_path(Message::readdir, handle));
      }
      std::vector<std::pair<size_t, std::string>> still_open;
      std::optional<std::pair<size_t, sftp::Status>> failure;
      for (size_t i = 0; i < open.size(); ++i) {
        auto& [index, handle] = open[i];
        bool ended = false;
        for (uint32_t id : {reading[i].first, reading[i].second}) {
          SftpReply reply = connection.wait(id);
          if (ended) continue;
          if (reply.type == Message::name) {
            sftp::MessageReader names(reply.body);
            for (uint32_t count = names.u32(); count > 0; --count) {
              std::string name = names.string();
              names.bytes();  // the long name, as ls -l shows it
              sftp::Attributes attributes = names.attributes();
              if (name != "." && name != "..")
                entries[index].push_back({name, attributes.size.value_or(0), attributes.is_directory()});
            }
            continue;
          }
          ended = true;
          sftp::Status status = reply.status();
          if (status != sftp::Status::eof && !failure) failure = {index, status};
        }
        if (ended)
          close(handle);
        else
          still_open.emplace_back(index, handle);
      }
      open = std::move(still_open);
      if (failure) {
        for (auto& [index, handle] : open) close(handle);
        fail("list", folders[failure->first], failure->second);
      }
    }
    return entries;
  }
};

SftpBackend::SftpBackend(const std::string& url) : url_(url), parsed_(parse_sftp_url(url)) {
  endpoint_ = storage::describe(SshTarget{parsed_.user, parsed_.host, parsed_.port, {}});
  // Five minutes without a byte moving while a request waits: a slow fsync of a large pack
  // on the server must not fail. OBKEEP_SFTP_STALL_SECONDS shortens it (for tests).
  stall_limit_ = std::chrono::seconds(ssh_setting("OBKEEP_SFTP_STALL_SECONDS", 300, 1, 86400));
  // OBKEEP_SFTP_CONNECTIONS, else as many as the first connection's round trip calls for.
  long chosen = ssh_setting("OBKEEP_SFTP_CONNECTIONS", 0, 1, 32);
  pool_ = std::make_unique<SshPool<SftpConnection>>(
      [this](const std::atomic<bool>* cancelled) { return connect(cancelled); },
      [chosen](SftpConnection& first, const std::atomic<bool>* cancelled) {
        return chosen ? static_cast<size_t>(chosen) : connections_for_round_trip(first.link_round_trip(cancelled));
      });
}

SftpBackend::~SftpBackend() { pool_.reset(); }

std::shared_ptr<SftpConnection> SftpBackend::connect(const std::atomic<bool>* cancelled) {
  return control_.connect(
      [&](const std::string& socket_path) {
        return std::make_shared<SftpConnection>(SshTarget{parsed_.user, parsed_.host, parsed_.port, socket_path},
                                                endpoint_, stall_limit_, cancelled);
      },
      cancelled);
}

// Runs `call` with the requests of a pooled connection (ssh/ssh_pool.hpp: a lost
// connection is retried on a new one).
template <class Call>
auto SftpBackend::with_connection(Call&& call, const std::function<bool(const SftpConnection&)>& preferred) {
  return pool_->with_connection(
      [&](const std::shared_ptr<SftpConnection>& connection) { return call(Remote{*connection, endpoint_}); }, preferred);
}

std::string SftpBackend::describe(const std::string& path) const { return describe_path(endpoint_, path); }

std::string SftpBackend::join(const std::string& folder, const std::string& name) const {
  if (name.empty()) return folder;
  return folder == "/" ? "/" + name : folder + "/" + name;
}

std::string SftpBackend::path_of(const Handle& handle) const { return join(parsed_.path, object_path(handle)); }

void SftpBackend::create() {
  with_connection([&](const Remote& remote) { create(remote); });
}

void SftpBackend::create(const Remote& remote) {
  const std::string& root = parsed_.path;
  // The usual case in one round trip: no config there, and the folder made now (so it was
  // not there before, and is empty).
  uint32_t config_id = remote.send_path(Message::stat, join(root, "config"));
  uint32_t made_id = remote.connection.send(Message::mkdir, [&](MessageWriter& m) { m.string(root).permissions(0700); });
  SftpReply config_reply = remote.connection.wait(config_id);
  SftpReply made_reply = remote.connection.wait(made_id);
  if (remote.take_attributes(config_reply, join(root, "config"))) throw Error("a repository already exists at " + url_);
  if (made_reply.status() != sftp::Status::ok) {
    if (auto existing = remote.stat(root)) {
      if (!existing->is_directory()) throw Error("not a directory: " + url_);
      if (!remote.list({root})[0].empty())
        throw Error("directory is not empty, refusing to create a repository in it: " + url_);
    } else {
      remote.make_directories(root);  // its parent is missing too
    }
  }
  std::vector<std::string> paths;
  std::vector<uint32_t> made;
  for (const std::string& folder : repository_folders()) {
    paths.push_back(join(root, folder));
    made.push_back(remote.connection.send(Message::mkdir, [&](MessageWriter& m) { m.string(paths.back()).permissions(0700); }));
  }
  for (size_t i = 0; i < made.size(); ++i)
    if (sftp::Status status = remote.connection.wait(made[i]).status(); status != sftp::Status::ok) remote.fail("create", paths[i], status);
}

void SftpBackend::save_after(const Handle& handle, ByteView data, const std::function<void()>& ready) {
  std::string target = path_of(handle);
  if (handle.type == FileType::lock) {
    ready();
    return with_connection([&](const Remote& remote) { remote.write_in_place(target, data); });
  }
  with_connection([&](const Remote& remote) {
    std::string temporary = join(parent_of(target), ".tmp-" + random_suffix());
    // Copy records, journal and archive entries: a round trip makes the copies/, journal/
    // or archive/ folder that repositories made before them lack.
    bool newer_folder = handle.type == FileType::copy_record || handle.type == FileType::journal ||
                        handle.type == FileType::archive;
    if (newer_folder) {
      std::string folder = parent_of(target);
      bool known;
      {
        std::lock_guard lock(folders_mutex_);
        known = folders_present_.count(folder) != 0;
      }
      if (!known) {
        folder_checks_++;
        if (!remote.stat(folder)) remote.make_directories(folder);
        std::lock_guard lock(folders_mutex_);
        folders_present_.insert(folder);
      }
    }
    // A large object takes the connections nobody uses for stripes of it (at a far site,
    // where the pool keeps many, the last packs of a backup or a copy go up alone).
    // Not under a bandwidth limit: its pacer paces this thread's pieces, not the helpers'.
    size_t stripes = transfer_piece_size() ? 1 : std::clamp<size_t>(data.size() / smallest_stripe, 1, most_stripe_helpers + 1);
    std::vector<SshPool<SftpConnection>::IdleLease> leases = pool_->lease_idle(stripes - 1);
    std::vector<Remote> helpers;
    for (const auto& lease : leases) helpers.push_back(Remote{lease.connection(), endpoint_});
    if (!helpers.empty()) striped_saves_++;
    try {
      remote.write_file(temporary, target, data, helpers, ready);
    } catch (const SshConnectionLost&) {
      throw;  // the temporary is left for prune's remove_temporaries
    } catch (...) {
      if (!remote.connection.failed()) remote.remove_leftover(temporary);
      throw;
    }
  });
}

Bytes SftpBackend::load(const Handle& handle, uint64_t offset, uint64_t length) {
  return *load_part(handle, offset, length, false);
}

std::optional<Bytes> SftpBackend::load_if_present(const Handle& handle) { return load_part(handle, 0, 0, true); }

std::optional<Bytes> SftpBackend::load_part(const Handle& handle, uint64_t offset, uint64_t length, bool absent_is_nothing) {
  std::string path = path_of(handle);
  return with_connection([&](const Remote& remote) -> std::optional<Bytes> {
    // The size and the open in one round trip.
    uint32_t stat_id = remote.send_path(Message::stat, path);
    uint32_t open_id = remote.send_open(path, sftp::open_read);
    SftpReply stated = remote.connection.wait(stat_id);
    SftpReply opened = remote.connection.wait(open_id);
    if (absent_is_nothing && opened.type == Message::status && opened.status() == sftp::Status::no_such_file)
      return std::nullopt;
    std::string file = remote.take_handle(opened, "open", path);
    std::optional<sftp::Attributes> attributes;
    try {
      attributes = remote.take_attributes(stated, path);
      if (!attributes) remote.fail("open", path, sftp::Status::no_such_file);  // removed in between
    } catch (...) {
      remote.close(file);
      throw;
    }
    uint64_t size = attributes->size.value_or(0);
    uint64_t wanted = length ? length : (offset <= size ? size - offset : 0);
    if (offset + wanted > size) {
      remote.close(file);
      throw Error("short object " + describe(path) + ": wanted " + std::to_string(offset + wanted) + " bytes, has " +
                  std::to_string(size));
    }
    Bytes data(wanted);
    try {
      remote.read_range(file, path, offset, data.data(), wanted);
    } catch (...) {
      if (!remote.connection.failed()) remote.close(file);
      throw;
    }
    remote.close(file);
    return data;
  });
}

// Like the local backend, reads land in a reused per-thread buffer; `use` runs after the
// connection is released, so decrypting does not hold it.
void SftpBackend::read(const Handle& handle, uint64_t offset, uint64_t length,
                       const std::function<void(ByteView)>& use) {
  std::span<uint8_t> buffer(thread_read_buffer(length), static_cast<size_t>(length));
  read_into(handle, offset, buffer);
  use(buffer);
}

void SftpBackend::read_into(const Handle& handle, uint64_t offset, std::span<uint8_t> out) {
  std::string path = path_of(handle);
  // Packs never change once named: their handles are kept open for the next read.
  bool keep = handle.type == FileType::pack;
  // A connection that has the pack open already saves the open's round trip.
  auto holding_it = [&](const SftpConnection& connection) { return keep && connection.handles.holds(path); };
  with_connection([&](const Remote& remote) {
    SftpHandleCache& handles = remote.connection.handles;
    std::optional<std::string> kept = keep ? handles.take(path) : std::nullopt;
    std::string file =
        kept ? *kept : remote.take_handle(remote.connection.wait(remote.send_open(path, sftp::open_read)), "open", path);
    try {
      remote.read_range(file, path, offset, out.data(), out.size());
    } catch (...) {
      if (kept)
        handles.forget(path);
      else if (!remote.connection.failed())
        remote.close(file);
      throw;
    }
    if (!keep) return remote.close(file);
    for (const std::string& closing : handles.give_back(path, file)) remote.close(closing);
  }, holding_it);
}

std::optional<uint64_t> SftpBackend::stat(const Handle& handle) {
  std::string path = path_of(handle);
  return with_connection([&](const Remote& remote) -> std::optional<uint64_t> {
    auto attributes = remote.stat(path);
    if (!attributes) return std::nullopt;
    return attributes->size.value_or(0);
  });
}

void SftpBackend::remove(const Handle& handle) {
  std::string path = path_of(handle);
  with_connection([&](const Remote& remote) {
    sftp::Status status = remote.connection.wait(remote.send_path(Message::remove, path)).status();
    if (status != sftp::Status::ok && status != sftp::Status::no_such_file) remote.fail("remove", path, status);
  });
}

void SftpBackend::list(FileType type, const std::function<void(const std::string&, uint64_t)>& visit) {
  if (type == FileType::config) {
    if (auto size = stat(Handle{type, "config"})) visit("config", *size);
    return;
  }
  std::vector<std::string> folders;
  if (type == FileType::pack) {
    for (const std::string& folder : repository_folders())
      if (folder.rfind("data/", 0) == 0) folders.push_back(join(parsed_.path, folder));
  } else {
    folders.push_back(join(parsed_.path, type_folder(type)));
  }
  // Not holding the connection while visiting: `visit` may call the backend.
  auto listed = with_connection([&](const Remote& remote) { return remote.list(folders); });
  for (const auto& entries : listed)
    for (const Entry& entry : entries)
      if (!entry.is_directory && valid_object_name(Handle{type, entry.name})) visit(entry.name, entry.size);
}

size_t SftpBackend::remove_temporaries() {
  return with_connection([&](const Remote& remote) {
    size_t removed = 0;
    std::vector<std::string> level = {parsed_.path};
    while (!level.empty()) {
      auto listed = remote.list(level);
      std::vector<std::string> next;
      std::vector<uint32_t> removing;
      for (size_t i = 0; i < level.size(); ++i)
        for (const Entry& entry : listed[i]) {
          std::string path = join(level[i], entry.name);
          if (entry.is_directory)
            next.push_back(path);
          else if (entry.name.rfind(".tmp-", 0) == 0)
            removing.push_back(remote.send_path(Message::remove, path));
        }
      for (uint32_t id : removing)
        if (remote.connection.wait(id).status() == sftp::Status::ok) ++removed;
      level = std::move(next);
    }
    return removed;
  });
}

}  // namespace obkeep::storage
