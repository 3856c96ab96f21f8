// The SFTP session's sender side, reader thread and failure handling.
#include "storage/sftp/sftp_connection.hpp"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/interrupt.hpp"

namespace obkeep::storage {

using sftp::Message;
using sftp::MessageReader;
using sftp::MessageWriter;

namespace {

constexpr auto slice = std::chrono::milliseconds(100);
constexpr size_t ssh_errors_kept = 8192;

int64_t now_ticks() { return std::chrono::steady_clock::now().time_since_epoch().count(); }

std::string last_line(const std::string& text) {
  size_t end = text.find_last_not_of("\r\n ");
  if (end == std::string::npos) return "";
  size_t start = text.find_last_of('\n', end);
  return text.substr(start == std::string::npos ? 0 : start + 1, end + 1 - (start == std::string::npos ? 0 : start + 1));
}

}  // namespace

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
    : endpoint_(std::move(endpoint)), stall_limit_(stall_limit) {
  ssh_ = std::make_unique<SshProcess>(target, "sftp");
  touch();
  reader_ = std::thread([this] { read_replies(); });
  try {
    MessageWriter init(Message::init);
    init.u32(3);
    {
      std::lock_guard send_lock(send_mutex_);
      write_all(init.finish());
    }
    std::unique_lock lock(mutex_);
    while (!version_received_ && !failure_) {
      replied_.wait_for(lock, slice);
      if (interrupted()) throw Error("interrupted", ExitCode::interrupted);
      if (cancelled && *cancelled) throw Error("connection to " + endpoint_ + " abandoned");
    }
    if (failure_) rethrow_failure();
    if (version_ != 3)
      throw Error("cannot use the SFTP server at " + endpoint_ + ": it speaks version " + std::to_string(version_) +
                  ", obkeep needs version 3");
    lock.unlock();
    ask_limits();
  } catch (...) {
    stopping_ = true;
    ssh_->kill();
    reader_.join();
    throw;
  }
}

SftpConnection::~SftpConnection() {
  stopping_ = true;
  reader_.join();
  // A healthy ssh ends its session when its input closes; a failed one (or one we are
  // leaving because of a signal) may never answer again.
  if (failed_ || interrupted()) ssh_->kill();
  ssh_.reset();
}

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
  SftpReply reply = wait(send(Message::extended, [](MessageWriter& m) { m.string("limits@openssh.com"); }));
  if (reply.type != Message::extended_reply) return;
  MessageReader limits(reply.body);
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
  std::unique_lock lock(mutex_);
  for (;;) {
    auto it = pending_.find(id);
    if (it != pending_.end() && it->second.done) {
      SftpReply reply = std::move(it->second.reply);
      pending_.erase(it);
      return reply;
    }
    if (failure_) {
      pending_.erase(id);
      rethrow_failure();
    }
    replied_.wait_for(lock, slice);
    if (interrupted()) {
      pending_.erase(id);  // a late reply is dropped; its `into` is not touched any more
      throw Error("interrupted", ExitCode::interrupted);
    }
  }
}

// With the send lock held. A message half-written cannot be taken back: any failure here
// ends the connection.
void SftpConnection::write_all(ByteView data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(ssh_->input(), data.data() + done, data.size() - done);
    if (n > 0) {
      done += static_cast<size_t>(n);
      touch();
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      fail_lost();
      rethrow_failure();
    }
    if (failed_) rethrow_failure();
    if (interrupted()) {
      fail(std::make_exception_ptr(Error("interrupted", ExitCode::interrupted)));
      rethrow_failure();
    }
    pollfd writable{ssh_->input(), POLLOUT, 0};
    ::poll(&writable, 1, static_cast<int>(slice.count()));
  }
}

// failure_ is set once, before failed_; callers know it is set (they saw failed_, or set
// it, or hold the lock), so it is read without the lock.
void SftpConnection::rethrow_failure() { std::rethrow_exception(failure_); }

void SftpConnection::fail(std::exception_ptr failure) {
  {
    std::lock_guard lock(mutex_);
    if (!failure_) failure_ = failure;
  }
  failed_ = true;
  replied_.notify_all();
}

void SftpConnection::fail_lost() {
  take_errors();
  std::string said;
  bool connected;
  {
    std::lock_guard lock(mutex_);
    said = ssh_errors_;
    connected = version_received_;
  }
  if (!connected) return fail(std::make_exception_ptr(ssh_failure(endpoint_, said)));
  std::string reason = last_line(said);
  fail(std::make_exception_ptr(
      SftpConnectionLost("connection to " + endpoint_ + " lost: " + (reason.empty() ? "ssh ended" : reason))));
}

bool SftpConnection::take_errors() {
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(ssh_->errors(), buffer, sizeof buffer);
    if (n == 0) return false;
    if (n < 0) return true;
    std::lock_guard lock(mutex_);
    ssh_errors_.append(buffer, static_cast<size_t>(n));
    if (ssh_errors_.size() > ssh_errors_kept) ssh_errors_.erase(0, ssh_errors_.size() - ssh_errors_kept);
  }
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

// Appends what ssh wrote and delivers every complete message; false at the end of the stream.
bool SftpConnection::take_output(Bytes& buffer, size_t& have) {
  for (;;) {
    if (buffer.size() - have < 64 * 1024) buffer.resize(buffer.size() * 2);
    ssize_t n = ::read(ssh_->output(), buffer.data() + have, buffer.size() - have);
    if (n == 0) return false;
    if (n < 0) return errno == EAGAIN || errno == EINTR;
    touch();
    have += static_cast<size_t>(n);
    size_t start = 0;
    while (have - start >= 4) {
      const uint8_t* p = buffer.data() + start;
      uint32_t length = uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | uint32_t{p[3]};
      if (length < 5 && !(length >= 1 && p[4] == static_cast<uint8_t>(Message::version)))
        throw sftp::ProtocolError("malformed SFTP message from " + endpoint_);
      if (length > sftp::max_message_length + 1024)
        throw sftp::ProtocolError("SFTP message of " + std::to_string(length) + " bytes from " + endpoint_ + ", too long");
      if (have - start - 4 < length) break;
      deliver(ByteView(p + 4, length));
      start += 4 + length;
    }
    std::memmove(buffer.data(), buffer.data() + start, have - start);
    have -= start;
  }
}

void SftpConnection::read_replies() {
  Bytes buffer(512 * 1024);
  size_t have = 0;
  bool errors_open = true;
  try {
    while (!stopping_) {
      pollfd fds[2] = {{ssh_->output(), POLLIN, 0}, {errors_open ? ssh_->errors() : -1, POLLIN, 0}};
      ::poll(fds, 2, static_cast<int>(slice.count()));
      if (fds[1].revents && !take_errors()) errors_open = false;
      if (fds[0].revents && !take_output(buffer, have)) {
        // ssh ended: let it finish printing why before the failure is worded.
        auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
        while (std::chrono::steady_clock::now() < until) {
          pollfd errors{ssh_->errors(), POLLIN, 0};
          if (::poll(&errors, 1, 50) > 0 && !take_errors()) break;
        }
        if (!stopping_) fail_lost();
        return;
      }
      bool waiting;
      {
        std::lock_guard lock(mutex_);
        waiting = !version_received_ || !pending_.empty();
      }
      auto silent = std::chrono::steady_clock::duration(now_ticks() - last_activity_.load());
      if (waiting && silent > stall_limit_) {
        fail(std::make_exception_ptr(SftpConnectionStalled("connection to " + endpoint_ + " stalled: no data moved for " +
                                           std::to_string(stall_limit_.count()) + " s, given up")));
        ssh_->kill();
        return;
      }
    }
  } catch (const Error&) {
    fail(std::current_exception());
    ssh_->kill();
  }
}

}  // namespace obkeep::storage
