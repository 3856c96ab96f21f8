// The client end of an obkeep serve session: the hello, sending requests, and handing
// each reply to its waiter.
#include "storage/serve/serve_connection.hpp"

#include "storage/transfer_pacer.hpp"

namespace obkeep::storage {

using serve::FrameReader;
using serve::FrameWriter;
using serve::Kind;
using serve::Status;

namespace {
// Pieces of a save: small enough that other requests on the connection are not held
// behind a whole pack, large enough that frames cost nothing.
constexpr size_t save_piece = 1024 * 1024;
}  // namespace

ServeConnection::ServeConnection(const SshTarget& target, std::string endpoint, const std::string& remote_command,
                                 const std::string& path, std::chrono::seconds stall_limit,
                                 const std::atomic<bool>* cancelled)
    : SshChannel(std::make_unique<SshProcess>(target, remote_command, SshRemote::command), std::move(endpoint),
                 stall_limit, serve::max_frame_length) {
  start();
  try {
    uint32_t id = send(Kind::hello, [&](FrameWriter& w) { w.string(serve::magic).u32(serve::protocol_version).string(path); });
    std::unique_lock lock(mutex_);
    wait_while(lock, [&] { return !pending_[id].done; }, cancelled);
    ServeReply reply = std::move(pending_[id].reply);
    pending_.erase(id);
    if (reply.status != Status::ok) throw Error("cannot use obkeep serve on " + endpoint_ + ": " + reply.message);
    FrameReader fields(reply.body);
    uint32_t version = fields.u32();
    uint32_t flags = fields.u32();
    fields.u32();  // the server's frame limit: ours is the same in version 1
    repository_ = fields.string();
    if (version != serve::protocol_version)
      throw Error("cannot use obkeep serve on " + endpoint_ + ": it speaks protocol version " + std::to_string(version) +
                  ", this obkeep speaks " + std::to_string(serve::protocol_version));
    append_only_ = flags & serve::flag_append_only;
    greeted_ = true;  // `lock` is still held
  } catch (...) {
    stop(true);
    throw;
  }
}

ServeConnection::~ServeConnection() { stop(); }

uint32_t ServeConnection::open_slot(bool list) {
  std::lock_guard lock(mutex_);
  if (failure_) rethrow_failure();
  uint32_t id = next_id_++;
  pending_[id].list = list;
  return id;
}

void ServeConnection::send_frame(ByteView head, ByteView tail) {
  std::lock_guard send_lock(send_mutex_);
  write_all(head);
  if (!tail.empty()) write_all(tail);
}

uint32_t ServeConnection::send(Kind kind, const std::function<void(FrameWriter&)>& fields, ByteView tail) {
  uint32_t id = open_slot(kind == Kind::list);
  FrameWriter frame(kind, id);
  fields(frame);
  send_frame(frame.finish(static_cast<uint32_t>(tail.size())), tail);
  return id;
}

uint32_t ServeConnection::send_save(const Handle& handle, ByteView data) {
  uint32_t id = open_slot(false);
  FrameWriter begin(Kind::save_begin, id);
  begin.handle(handle).u64(data.size());
  send_frame(begin.finish(), {});
  for (size_t offset = 0; offset < data.size(); offset += save_piece) {
    ByteView piece = data.subspan(offset, std::min(save_piece, data.size() - offset));
    pace_transfer(piece.size());  // a bandwidth limit paces the pieces, not whole packs
    FrameWriter header(Kind::save_data, id);
    send_frame(header.finish(static_cast<uint32_t>(piece.size())), piece);
  }
  return id;
}

ServeReply ServeConnection::wait(uint32_t id) {
  return take_reply(pending_, id);
}

void ServeConnection::abandon(uint32_t id) {
  std::lock_guard lock(mutex_);
  pending_.erase(id);
}

void ServeConnection::check_length(uint32_t length) const {
  if (length < 6) throw serve::ProtocolError("malformed frame from obkeep serve on " + endpoint_);
}

void ServeConnection::deliver(ByteView message) {
  FrameReader reader(message);
  if (reader.kind() != Kind::reply) throw serve::ProtocolError("obkeep serve on " + endpoint_ + " sent a frame that is no reply");
  uint32_t id = reader.u32();
  Status status = reader.status();
  std::lock_guard lock(mutex_);
  auto it = pending_.find(id);
  if (it == pending_.end()) return;  // its waiter gave up
  Slot& slot = it->second;
  slot.reply.status = status;
  if (status != Status::ok) {
    slot.reply.message = reader.string();
  } else if (slot.list) {
    bool more = reader.u8() != 0;
    ByteView page = reader.rest();
    slot.reply.pages.emplace_back(page.begin(), page.end());
    if (more) return;
  } else {
    ByteView body = reader.rest();
    slot.reply.body.assign(body.begin(), body.end());
  }
  slot.done = true;
  replied_.notify_all();
}

}  // namespace obkeep::storage
