// One authenticated SSH connection with its SFTP channel (libssh), used by one thread at a time.
#pragma once

#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/sftp.h>

#include <atomic>
#include <chrono>
#include <string>

#include "storage/sftp/sftp_url.hpp"

namespace obkeep::storage {

// Connects like OpenSSH would: the client config (OBKEEP_SSH_CONFIG, else ~/.ssh/config)
// supplies HostName, Port, User, IdentityFile and UserKnownHostsFile; the host key must
// already be in known_hosts (unknown or changed → Error, never a prompt); public-key
// authentication through the agent, then the identity files.
class SftpSession {
 public:
  // `endpoint` names the server in messages ("user@host:port"). Throws Error: with
  // ExitCode::no_repository when the server cannot be reached, ExitCode::error for host key
  // and authentication failures.
  SftpSession(const SftpUrl& url, const std::string& endpoint);
  ~SftpSession();
  SftpSession(const SftpSession&) = delete;
  SftpSession& operator=(const SftpSession&) = delete;

  sftp_session sftp() const { return sftp_; }
  // The last SFTP status code (SSH_FX_*) of this session.
  int status() const { return sftp_get_error(sftp_); }
  // A short reason for the last failure: the SFTP status, or the SSH error when the
  // connection itself failed.
  std::string last_error() const;
  // False once the connection is gone; the pool then drops the session.
  bool connected() const { return ssh_is_connected(ssh_) != 0; }
  bool can_fsync() const { return can_fsync_; }
  int socket() const { return ssh_get_fd(ssh_); }

  // Why SftpWatchdog ended this session's connection, if it did.
  enum class AbortReason { none, interrupted, stalled };
  // Called from the watchdog's thread while another thread may be blocked in a libssh call
  // on this session: shuts the socket down, so that call fails at once; last_error() then
  // gives the reason. The session is unusable afterwards (connected() is false).
  void abort(AbortReason reason, std::chrono::seconds stall_limit = {});
  AbortReason abort_reason() const { return abort_reason_.load(); }

 private:
  void configure(const SftpUrl& url);
  void verify_host_key();
  void authenticate();
  void start_sftp();

  std::string endpoint_;
  ssh_callbacks_struct callbacks_{};  // must outlive ssh_
  ssh_session ssh_ = nullptr;
  sftp_session sftp_ = nullptr;
  bool can_fsync_ = false;
  std::atomic<AbortReason> abort_reason_{AbortReason::none};
  std::atomic<long> stall_seconds_{0};
};

}  // namespace obkeep::storage
