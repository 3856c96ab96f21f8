// The control socket's directory: made private, removed with what is left in it.
#include "storage/ssh/ssh_control_directory.hpp"

#include <unistd.h>

#include <cstdlib>
#include <vector>

namespace obkeep::storage {

namespace {
// sockaddr_un holds 108 bytes; ssh appends a temporary suffix while it binds the socket.
constexpr size_t longest_socket_path = 80;
constexpr const char* socket_name = "/m";

void remove_directory(const std::string& directory, const std::string& socket_path) {
  ::unlink(socket_path.c_str());  // a master killed before it could remove it
  ::rmdir(directory.c_str());
}
}  // namespace

SshControlDirectory::SshControlDirectory() {
  const char* tmpdir = std::getenv("TMPDIR");
  std::string base = tmpdir && *tmpdir ? tmpdir : "/tmp";
  std::string pattern = base + "/obkeep-ssh-XXXXXX";
  if (pattern.size() + 2 > longest_socket_path) pattern = "/tmp/obkeep-ssh-XXXXXX";
  std::vector<char> name(pattern.begin(), pattern.end());
  name.push_back('\0');
  if (!::mkdtemp(name.data())) return;  // mode 0700
  directory_ = name.data();
  socket_path_ = directory_ + socket_name;
  emergency_removal_ = std::make_unique<EmergencyCleanup>([this] { remove_directory(directory_, socket_path_); });
}

SshControlDirectory::~SshControlDirectory() {
  if (directory_.empty()) return;
  emergency_removal_.reset();
  remove_directory(directory_, socket_path_);
}

}  // namespace obkeep::storage
