// Ends SFTP calls that can no longer finish: on SIGINT/SIGTERM, or when their connection moved no byte for too long.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <thread>

#include "storage/sftp/sftp_session.hpp"

namespace obkeep::storage {

// libssh's blocking calls neither look at the interrupt flag nor give up on a connection
// that went silent (a write waiting for a full socket restarts its timeout, measured: a
// backup stalled over nine minutes and ignored SIGTERM). A thread watches the sockets of
// the sessions in use, once a second, and aborts a session (SftpSession::abort shuts its
// socket down, so the blocked call fails at once) when a signal has arrived since the call
// began, or when its TCP connection neither had bytes acknowledged nor received any for
// the stall limit. Calls begun after a signal (removing the lock) get a short limit.
class SftpWatchdog {
 public:
  explicit SftpWatchdog(std::chrono::seconds stall_limit);
  ~SftpWatchdog();
  SftpWatchdog(const SftpWatchdog&) = delete;
  SftpWatchdog& operator=(const SftpWatchdog&) = delete;

  // A call begins on `session` / has ended (before the session may be destroyed).
  void watch(SftpSession& session);
  void unwatch(SftpSession& session);

 private:
  struct Watched {
    bool started_interrupted;
    uint64_t bytes_moved;
    std::chrono::steady_clock::time_point last_progress;
  };
  void run();
  void check(SftpSession& session, Watched& watched, std::chrono::steady_clock::time_point now);

  std::chrono::seconds stall_limit_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::map<SftpSession*, Watched> watched_;
  std::thread thread_;  // last: starts after the members it uses
};

}  // namespace obkeep::storage
