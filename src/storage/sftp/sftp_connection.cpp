// The SFTP session: its handshake, sending requests, and handing each reply to its waiter.
#include "storage/sftp/sftp_connection.hpp"

#include <cstring>

namespace obkeep::storage {

using sftp::Message;
using sftp::MessageReader;
using sftp::MessageWriter;

bool SftpHandleCache::holds(const std::string& path) const {
  std::lock_guard lock(mutex_);
  return kept_.contains(path);
}

std::optional<std::string> SftpHandleCache::take(const std::string& path) {
  std::lock_guard lock(mutex_);
  auto it = kept_.find(path);
  if (it == kept_.end()) return std::nullopt;
  it->second.users++;
  it->second.last_use = ++clock_;
  return it->second.handle;
}

std::vector<std::string> SftpHandleCache::give_back(const std::string& path, const std::string& handle) {
  std::lock_guard lock(mutex_);
  auto it = kept_.find(path);
  if (it != kept_.end()) {
    if (it->second.handle != handle) return {handle};  // opened meanwhile by another reader
    it->second.users--;
    return {};
  }
  kept_[path] = Kept{handle, 0, ++clock_};
  std::vector<std::string> closing;
  while (kept_.size() > capacity_) {
    auto oldest = kept_.end();
    for (auto candidate = kept_.begin(); candidate != kept_.end(); ++candidate)
      if (candidate->second.users == 0 && (oldest == kept_.end() || candidate->second.last_use < oldest->second.last_use))
        oldest = candidate;
    if (oldest == kept_.end()) break;
    closing.push_back(oldest->second.handle);
    kept_.erase(oldest);
  }
  return closing;
}

void SftpHandleCache::forget(const std::string& path) {
  std::lock_guard lock(mutex_);
  kept_.erase(path);
}

sftp::Status SftpReply::status() const {
  if (type != Message::status) throw sftp::ProtocolError("unexpected SFTP reply (wanted a status)");
  MessageReader reader(body);
  return static_cast<sftp::Status>(reader.u32());
}

SftpConnection::SftpConnection(const SshTarget& target, std::string endpoint, std::chrono::seconds stall_limit,
                               const std::atomic<bool>* cancelled)
    : SshChannel(std::make_unique<SshProcess>(target, "sftp"), std::move(endpoint), stall_limit,
                 sftp::max_message_length + 1024) {
  start();
  try {
    MessageWriter init(Message::init);
    init.u32(3);
    {
      std::lock_guard send_lock(send_mutex_);
      write_all(init.finish());
    }
    auto sent = std::chrono::steady_clock::now();
    std::unique_lock lock(mutex_);
    wait_while(lock, [this] { return !version_received_; }, cancelled);
    // The limits are asked for and not waited for: the first requests go out behind them,
    // a round trip sooner; their answer times the link (link_round_trip).
    round_trip_ = elapsed_since(sent);
    if (version_ != 3)
      throw Error("cannot use the SFTP server at " + endpoint_ + ": it speaks version " + std::to_string(version_) +
                  ", obkeep needs version 3");
    lock.unlock();
    ask_limits();
  } catch (...) {
    stop(true);
    throw;
  }
}

SftpConnection::~SftpConnection() { stop(); }

uint32_t SftpConnection::send(Message type, const std::function<void(MessageWriter&)>& fields, ByteView tail,
                              std::span<uint8_t> into) {
  uint32_t id;
  {
    std::lock_guard lock(mutex_);
    if (failure_) rethrow_failure();
    id = next_id_++;
    pending_[id].into = into;
  }
  MessageWriter message(type, id);
  fields(message);
  ByteView head = message.finish(static_cast<uint32_t>(tail.size()));
  std::lock_guard send_lock(send_mutex_);
  write_all(head);
  if (!tail.empty()) write_all(tail);
  return id;
}

void SftpConnection::send_and_forget(Message type, const std::function<void(MessageWriter&)>& fields) {
  uint32_t id = send(type, fields);
  std::lock_guard lock(mutex_);
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  if (it->second.done)
    pending_.erase(it);
  else
    it->second.forget = true;
}

// OpenSSH (8.6 on) says how long a read or write may be; larger ones mean fewer requests
// and less per-message overhead. Servers that do not say get 64 KiB, which all accept.
void SftpConnection::ask_limits() {
  if (!has_extension("limits@openssh.com")) return;
  uint32_t id;
  {
    std::lock_guard lock(mutex_);
    id = next_id_++;
    limits_request_ = id;  // the reader thread applies the answer
    limits_known_ = false;
    limits_asked_ = std::chrono::steady_clock::now();
  }
  MessageWriter message(Message::extended, id);
  message.string("limits@openssh.com");
  std::lock_guard send_lock(send_mutex_);
  write_all(message.finish());
}

void SftpConnection::settle_limits(const std::atomic<bool>* cancelled) {
  std::unique_lock lock(mutex_);
  wait_while(lock, [this] { return !limits_known_; }, cancelled);
}

std::chrono::microseconds SftpConnection::link_round_trip(const std::atomic<bool>* cancelled) {
  settle_limits(cancelled);
  return round_trip_;
}

void SftpConnection::apply_limits(MessageReader& limits) {
  limits.u64();  // the longest packet
  uint64_t read = limits.u64(), write = limits.u64();
  constexpr uint64_t most = sftp::max_message_length - 1024;
  if (read >= 32 * 1024) max_read_ = static_cast<uint32_t>(std::min(read, most));
  if (write >= 32 * 1024) max_write_ = static_cast<uint32_t>(std::min(write, most));
}

void SftpConnection::abandon(uint32_t id) {
  std::lock_guard lock(mutex_);
  pending_.erase(id);
}

SftpReply SftpConnection::wait(uint32_t id) {
  return take_reply(pending_, id);
}

// A version message is a type and a version number: every message has at least 5 bytes.
void SftpConnection::check_length(uint32_t length) const {
  if (length < 5) throw sftp::ProtocolError("malformed SFTP message from " + endpoint_);
}

void SftpConnection::deliver(ByteView message) {
  MessageReader reader(message);
  auto type = static_cast<Message>(reader.u8());
  std::lock_guard lock(mutex_);
  if (type == Message::version) {
    version_ = reader.u32();
    while (!reader.at_end()) {
      std::string name = reader.string();
      extensions_[name] = reader.string();
    }
    version_received_ = true;
    replied_.notify_all();
    return;
  }
  uint32_t id = reader.u32();
  if (limits_request_ && id == *limits_request_) {
    round_trip_ = elapsed_since(limits_asked_);
    if (type == Message::extended_reply) apply_limits(reader);
    limits_request_.reset();
    limits_known_ = true;
    replied_.notify_all();
    return;
  }
  auto it = pending_.find(id);
  if (it == pending_.end()) return;  // its waiter gave up
  Slot& slot = it->second;
  if (slot.forget) {
    pending_.erase(it);
    return;
  }
  slot.reply.type = type;
  if (type == Message::data && !slot.into.empty()) {
    ByteView data = reader.bytes();
    if (data.size() > slot.into.size()) throw sftp::ProtocolError("SFTP server at " + endpoint_ + " sent more data than asked for");
    std::memcpy(slot.into.data(), data.data(), data.size());
    slot.reply.data_length = data.size();
  } else {
    slot.reply.body.assign(message.begin() + 5, message.end());
  }
  slot.done = true;
  replied_.notify_all();
}

}  // namespace obkeep::storage
