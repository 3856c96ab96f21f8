// The reader thread, the writer and the failures of a message stream over ssh.
#include "storage/ssh/ssh_channel.hpp"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/interrupt.hpp"

namespace obkeep::storage {

namespace {

constexpr size_t ssh_errors_kept = 8192;

int64_t now_ticks() { return std::chrono::steady_clock::now().time_since_epoch().count(); }

std::string last_line(const std::string& text) {
  size_t end = text.find_last_not_of("\r\n ");
  if (end == std::string::npos) return "";
  size_t start = text.find_last_of('\n', end);
  start = start == std::string::npos ? 0 : start + 1;
  return text.substr(start, end + 1 - start);
}

}  // namespace

SshChannel::SshChannel(std::unique_ptr<SshProcess> ssh, std::string endpoint, std::chrono::seconds stall_limit,
                       uint32_t max_message_length)
    : endpoint_(std::move(endpoint)), ssh_(std::move(ssh)), stall_limit_(stall_limit),
      max_message_length_(max_message_length) {
  touch();
}

SshChannel::~SshChannel() { stop(); }

void SshChannel::start() { reader_ = std::thread([this] { read_replies(); }); }

void SshChannel::stop(bool kill_ssh) {
  stopping_ = true;
  if (!ssh_) return;
  if (kill_ssh) ssh_->kill();
  // Every request answered: nothing is left for the session to carry, and ending it
  // politely costs a round trip to the server (~80 ms at a far site, at the end of every
  // command). A request still waited for (a fire-and-forget close or remove) gets that
  // round trip.
  bool idle;
  {
    std::lock_guard lock(mutex_);
    idle = !failed_ && connected() && !awaiting_replies();
  }
  if (!kill_ssh && idle) ssh_->end_now();
  if (reader_.joinable()) reader_.join();
  // A healthy ssh ends its session when its input closes (also after a signal: what was
  // sent is delivered); a failed one may never answer again. SshProcess waits at most a second.
  if (failed_) ssh_->kill();
  ssh_.reset();
}

void SshChannel::throw_if_signalled() const {
  if (interrupted()) throw Error("interrupted", ExitCode::interrupted);
}

void SshChannel::write_all(ByteView data) {
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
    // Not given up on a signal: a message cut short would end the connection, and with it
    // the cleanup that follows (our lock, our temporaries). A stalled link fails the
    // connection (the reader's stall limit) and the watchdog bounds the rest.
    if (failed_) rethrow_failure();
    pollfd writable{ssh_->input(), POLLOUT, 0};
    ::poll(&writable, 1, static_cast<int>(slice.count()));
  }
}

void SshChannel::fail(std::exception_ptr failure) {
  {
    std::lock_guard lock(mutex_);
    if (!failure_) failure_ = failure;
  }
  failed_ = true;
  replied_.notify_all();
}

void SshChannel::fail_lost() {
  take_errors();
  std::string said;
  bool handshake_done;
  {
    std::lock_guard lock(mutex_);
    said = ssh_errors_;
    handshake_done = connected();
  }
  if (!handshake_done) return fail(std::make_exception_ptr(ssh_failure(endpoint_, said)));
  std::string reason = last_line(said);
  fail(std::make_exception_ptr(
      SshConnectionLost("connection to " + endpoint_ + " lost: " + (reason.empty() ? "ssh ended" : reason))));
}

bool SshChannel::take_errors() {
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

// Appends what ssh wrote and delivers every complete message; false at the end of the stream.
bool SshChannel::take_output(Bytes& buffer, size_t& have) {
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
      if (length > max_message_length_)
        throw Error("message of " + std::to_string(length) + " bytes from " + endpoint_ + ", too long");
      check_length(length);
      if (have - start - 4 < length) break;
      deliver(ByteView(p + 4, length));
      start += 4 + length;
    }
    std::memmove(buffer.data(), buffer.data() + start, have - start);
    have -= start;
  }
}

void SshChannel::read_replies() {
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
        waiting = !connected() || awaiting_replies();
      }
      auto silent = std::chrono::steady_clock::duration(now_ticks() - last_activity_.load());
      if (waiting && silent > stall_limit_) {
        fail(std::make_exception_ptr(SshConnectionStalled("connection to " + endpoint_ + " stalled: no data moved for " +
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
