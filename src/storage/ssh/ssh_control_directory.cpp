// The control socket's directory: made private, removed with what is left in it.
#include "storage/ssh/ssh_control_directory.hpp"

#include <dirent.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <string>
#include <vector>

#include "util/error.hpp"

namespace obkeep::storage {

namespace {
// sockaddr_un holds 108 bytes; ssh appends a temporary suffix while it binds the socket.
constexpr size_t longest_socket_path = 80;
constexpr const char* socket_name = "/m";

constexpr const char* prefix = "obkeep-ssh-";

// The socket of master `index` (0 is "m", then "m1", "m2", ...).
std::string master_socket(const std::string& directory, size_t index) {
  return directory + socket_name + (index ? std::to_string(index) : "");
}

void remove_directory(const std::string& directory) {
  for (size_t index = 0; index < SshControlDirectory::most_masters; ++index)
    ::unlink(master_socket(directory, index).c_str());  // masters killed before they could remove them
  ::rmdir(directory.c_str());
}

// Whether a master still answers on `socket_path` (a pid seen from another pid namespace
// sharing this /tmp says nothing about the process that made the socket).
bool master_answers(const std::string& socket_path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof address.sun_path) return false;
  socket_path.copy(address.sun_path, socket_path.size());
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return true;  // cannot tell: leave it
  bool answers = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return answers;
}

// Removes the directories under `base` of our processes that were killed (SIGKILL leaves
// no chance to clean up): named obkeep-ssh-<pid>-…, owned by us, whose process is gone and
// whose socket (if any) no master answers on. Only the socket's name is unlinked before
// rmdir, so a directory holding anything else stays.
void remove_left_by_killed(const std::string& base) {
  DIR* listing = ::opendir(base.c_str());
  if (!listing) return;
  std::vector<std::string> gone;
  while (dirent* entry = ::readdir(listing)) {
    std::string name = entry->d_name;
    if (name.rfind(prefix, 0) != 0) continue;
    char* end = nullptr;
    long pid = std::strtol(name.c_str() + std::char_traits<char>::length(prefix), &end, 10);
    if (pid <= 0 || *end != '-' || pid == ::getpid()) continue;
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;  // alive, or not ours to judge
    struct stat info;
    std::string path = base + "/" + name;
    if (::lstat(path.c_str(), &info) != 0 || !S_ISDIR(info.st_mode) || info.st_uid != ::getuid()) continue;
    if (master_answers(path + socket_name)) continue;
    gone.push_back(path);
  }
  ::closedir(listing);
  for (const std::string& path : gone) remove_directory(path);
}
}  // namespace

SshControlDirectory::SshControlDirectory() {
  const char* tmpdir = std::getenv("TMPDIR");
  std::string base = tmpdir && *tmpdir ? tmpdir : "/tmp";
  std::string own = std::string(prefix) + std::to_string(::getpid()) + "-XXXXXX";
  std::string pattern = base + "/" + own;
  if (pattern.size() + 3 > longest_socket_path) {
    base = "/tmp";
    pattern = base + "/" + own;
  }
  remove_left_by_killed(base);
  std::vector<char> name(pattern.begin(), pattern.end());
  name.push_back('\0');
  if (!::mkdtemp(name.data())) return;  // mode 0700
  directory_ = name.data();
  socket_path_ = directory_ + socket_name;
  emergency_removal_ = std::make_unique<EmergencyCleanup>([this] { remove_directory(directory_); });
}

SshControlDirectory::~SshControlDirectory() {
  if (directory_.empty()) return;
  emergency_removal_.reset();
  remove_directory(directory_);
}

SshControlDirectory::Slot SshControlDirectory::next_slot(const std::atomic<bool>* cancelled) {
  if (directory_.empty()) return {};  // no masters: every connection on its own
  std::unique_lock lock(mutex_);
  size_t index = connections_++;
  size_t master = std::min(index / sessions_per_master, most_masters - 1);
  Slot slot{master_socket(directory_, master), master, index == master * sessions_per_master};
  if (slot.first) return slot;
  while (!settled_[master]) {
    if (cancelled && *cancelled) throw Error("the ssh connections were closed while one was opened");
    settled_changed_.wait_for(lock, std::chrono::milliseconds(50));
  }
  return slot;
}

void SshControlDirectory::settle(size_t master) {
  {
    std::lock_guard lock(mutex_);
    settled_[master] = true;
  }
  settled_changed_.notify_all();
}

}  // namespace obkeep::storage
