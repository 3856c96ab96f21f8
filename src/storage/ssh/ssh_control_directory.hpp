// A private directory for the control socket that a backend's ssh connections share
// (OpenSSH's ControlMaster): the first connection becomes the master, and the others open
// sessions over its TCP connection, each with its own flow-control window, instead of
// each paying a handshake of ~10 round trips and a key exchange at both ends.
#pragma once

#include <memory>
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

  const std::string& socket_path() const { return socket_path_; }

 private:
  std::string directory_, socket_path_;
  std::unique_ptr<EmergencyCleanup> emergency_removal_;
};

}  // namespace obkeep::storage
