// The operator's OpenSSH client as a byte pipe to a subsystem on a server. Running `ssh`
// (as restic and rclone do) rather than an SSH library brings everything the operator has
// configured for that host: ~/.ssh/config or OBKEEP_SSH_CONFIG, known_hosts, the agent,
// ControlMaster, ProxyJump, hardware keys.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "util/error.hpp"

namespace obkeep::storage {

struct SshTarget {
  std::string user;  // empty: from the ssh config, else the local user
  std::string host;
  std::optional<int> port;  // absent: from the ssh config, else 22
  // A control socket the backend's connections share (SshControlDirectory); empty: none.
  std::string control_path;
};

// What ssh runs on the server: a subsystem (`ssh -s host sftp`) or a command
// (`ssh host 'obkeep serve --stdio …'`, which a forced command in authorized_keys replaces).
enum class SshRemote { subsystem, command };

class SshProcess {
 public:
  // Starts `ssh … -s host subsystem` (or `ssh … host command`) in its own process group (a Ctrl-C at the terminal is
  // obkeep's to handle, not ssh's), never prompting (BatchMode). OBKEEP_SSH_COMMAND
  // replaces "ssh" (words split at spaces, like GIT_SSH_COMMAND); OBKEEP_SSH_CONFIG is
  // passed as -F. Throws Error when ssh cannot be started.
  SshProcess(const SshTarget& target, const std::string& remote, SshRemote kind = SshRemote::subsystem);
  // Closes ssh's input, gives it a moment to end the session, then kills it.
  ~SshProcess();
  SshProcess(const SshProcess&) = delete;
  SshProcess& operator=(const SshProcess&) = delete;

  // Non-blocking descriptors: ssh's stdin, stdout and stderr.
  int input() const { return input_; }
  int output() const { return output_; }
  int errors() const { return errors_; }

  // Ends ssh at once (a link that went silent).
  void kill();
  // Asks ssh to end now (SIGTERM: it closes its connection and, as a master, removes its
  // control socket) instead of ending its session and waiting a round trip for the server.
  void end_now();

 private:
  pid_t pid_ = -1;
  int input_ = -1, output_ = -1, errors_ = -1;
};

// user@host:port as the target says it, for messages.
std::string describe(const SshTarget& target);

// A whole number from the environment variable `name` (fallback when unset), within
// [low, high]; throws Error (usage) naming the variable otherwise.
long ssh_setting(const char* name, long fallback, long low, long high);

// The error for an ssh that ended (or never connected), from what it printed: host key
// unknown or changed and authentication failures are ExitCode::error; a server that cannot
// be reached (or that drops the connection before the session starts) is
// ExitCode::no_repository. `stderr_text` is ssh's whole output; the message is
// one line naming `endpoint`.
Error ssh_failure(const std::string& endpoint, const std::string& stderr_text);

}  // namespace obkeep::storage
