// A private directory for the control socket that a backend's ssh connections share
// (OpenSSH's ControlMaster): the first connection becomes the master, and the others open
// sessions over its TCP connection, each with its own flow-control window, instead of
// each paying a handshake of ~10 round trips and a key exchange at both ends.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>

#include "util/interrupt.hpp"

namespace obkeep::storage {

class SshControlDirectory {
 public:
  // Makes a directory only this user can enter, under $TMPDIR (or /tmp, when that path
  // would be too long for a socket), named after our pid. Where none can be made,
  // socket_path() is empty and every connection goes on its own. Directories there of our
  // processes that were killed (SIGKILL: no cleanup ran) are removed.
  SshControlDirectory();
  // Removes the directory (the master removes its socket when it ends); so does the
  // watchdog when it ends the process before the stack unwinds.
  ~SshControlDirectory();
  SshControlDirectory(const SshControlDirectory&) = delete;
  SshControlDirectory& operator=(const SshControlDirectory&) = delete;

  // The first master's socket.
  const std::string& socket_path() const { return socket_path_; }
  // Opens the backend's next connection with `open(socket_path)`: ten connections a master
  // (sshd's default MaxSessions refuses an eleventh session on one TCP connection, and ssh
  // then connects on its own: a handshake, ~170 ms of CPU at the two ends here), then a
  // further master, up to `most_masters`. A master's later connections wait until its
  // first has connected or failed, or else each, finding no master yet, would connect on
  // its own. `cancelled`, once set, ends that wait with an Error.
  template <class Open>
  auto connect(Open&& open, const std::atomic<bool>* cancelled) {
    Slot slot = next_slot(cancelled);
    if (!slot.first) return open(slot.path);
    try {
      auto connection = open(slot.path);
      settle(slot.master);
      return connection;
    } catch (...) {
      settle(slot.master);
      throw;
    }
  }

  static constexpr size_t sessions_per_master = 10, most_masters = 4;

 private:
  struct Slot {
    std::string path;
    size_t master = 0;
    bool first = false;  // the master's first connection: it becomes the master
  };
  Slot next_slot(const std::atomic<bool>* cancelled);
  void settle(size_t master);

  std::string directory_, socket_path_;
  std::mutex mutex_;
  std::condition_variable settled_changed_;
  size_t connections_ = 0;
  std::array<bool, most_masters> settled_{};
  std::unique_ptr<EmergencyCleanup> emergency_removal_;
};

}  // namespace obkeep::storage
