// A thread that aborts SFTP sessions stuck on a silent connection or outliving a signal.
#include "storage/sftp/sftp_watchdog.hpp"

#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "util/interrupt.hpp"

namespace obkeep::storage {

namespace {

constexpr std::chrono::seconds after_signal_stall_limit{10};

// Bytes the peer acknowledged plus bytes received on this TCP socket: any change is progress.
uint64_t bytes_moved(int fd) {
  tcp_info info{};
  socklen_t length = sizeof info;
  if (fd < 0 || getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0) return 0;
  return info.tcpi_bytes_acked + info.tcpi_bytes_received;
}

}  // namespace

SftpWatchdog::SftpWatchdog(std::chrono::seconds stall_limit)
    : stall_limit_(stall_limit), thread_([this] { run(); }) {}

SftpWatchdog::~SftpWatchdog() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void SftpWatchdog::watch(SftpSession& session) {
  std::lock_guard lock(mutex_);
  watched_[&session] = {interrupted(), bytes_moved(session.socket()), std::chrono::steady_clock::now()};
}

void SftpWatchdog::unwatch(SftpSession& session) {
  std::lock_guard lock(mutex_);
  watched_.erase(&session);
}

void SftpWatchdog::check(SftpSession& session, Watched& watched, std::chrono::steady_clock::time_point now) {
  if (!watched.started_interrupted && interrupted()) {
    session.abort(SftpSession::AbortReason::interrupted);
    return;
  }
  uint64_t moved = bytes_moved(session.socket());
  if (moved != watched.bytes_moved) {
    watched.bytes_moved = moved;
    watched.last_progress = now;
    return;
  }
  auto limit = watched.started_interrupted ? after_signal_stall_limit : stall_limit_;
  if (now - watched.last_progress >= limit) session.abort(SftpSession::AbortReason::stalled, limit);
}

// The lock is held while a session is checked, and unwatch() takes it before a session can
// be destroyed, so abort() never reaches a closed (or reused) socket.
void SftpWatchdog::run() {
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; })) {
    auto now = std::chrono::steady_clock::now();
    for (auto& [session, watched] : watched_) check(*session, watched, now);
  }
}

}  // namespace obkeep::storage
