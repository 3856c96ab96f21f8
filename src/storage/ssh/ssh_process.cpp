// Starting ssh with pipes, and reading its failures.
#include "storage/ssh/ssh_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <thread>
#include <vector>

extern char** environ;

namespace obkeep::storage {

namespace {

bool cpu_has_aes() {
#if defined(__x86_64__) || defined(__i386__)
  return __builtin_cpu_supports("aes");
#else
  return false;
#endif
}

std::vector<std::string> ssh_command(const SshTarget& target, const std::string& remote, SshRemote kind) {
  std::vector<std::string> argv;
  const char* command = std::getenv("OBKEEP_SSH_COMMAND");
  bool own_command = command && *command;
  std::istringstream words(own_command ? command : "ssh");
  for (std::string word; words >> word;) argv.push_back(word);
  if (const char* config = std::getenv("OBKEEP_SSH_CONFIG"); config && *config) {
    std::error_code error;
    if (!std::filesystem::is_regular_file(config, error))
      throw Error(std::string("cannot read ssh config ") + config + " (OBKEEP_SSH_CONFIG)");
    argv.insert(argv.end(), {"-F", config});
  }
  // Never a prompt (a scheduled backup has no one to answer it); an unanswered connect or a
  // server that stops answering ends ssh instead of hanging it; nothing forwarded.
  argv.insert(argv.end(), {"-o", "BatchMode=yes", "-o", "ConnectTimeout=30", "-o", "ServerAliveInterval=15", "-o",
                           "ServerAliveCountMax=4", "-o", "ClearAllForwardings=yes", "-T", "-x", "-a"});
  // OpenSSH prefers ChaCha20-Poly1305, the right default for CPUs without AES instructions;
  // with them AES-GCM costs each end of the link less than half the CPU per byte, which a
  // restore of gigabytes feels ("^": first, ahead of the rest of the defaults). A command of
  // the operator's own (OBKEEP_SSH_COMMAND) is left as it is.
  if (!own_command && cpu_has_aes()) argv.insert(argv.end(), {"-o", "Ciphers=^aes128-gcm@openssh.com,aes256-gcm@openssh.com"});
  // One TCP connection and one handshake for all of a backend's sessions: the first to
  // start becomes the master ("auto"); one that finds none, or a socket it cannot use,
  // connects on its own. The master ends with the last session (ControlPersist=no).
  if (!own_command && !target.control_path.empty())
    argv.insert(argv.end(), {"-o", "ControlMaster=auto", "-o", "ControlPath=" + target.control_path, "-o",
                             "ControlPersist=no"});
  if (!target.user.empty()) argv.insert(argv.end(), {"-l", target.user});
  if (target.port) argv.insert(argv.end(), {"-p", std::to_string(*target.port)});
  if (kind == SshRemote::subsystem) argv.push_back("-s");
  argv.insert(argv.end(), {"--", target.host, remote});
  return argv;
}

void make_pipe(int fds[2]) {
  if (pipe2(fds, O_CLOEXEC) != 0) throw_system_error("cannot create a pipe for ssh", errno);
  ::fcntl(fds[1], F_SETPIPE_SZ, 1 << 20);  // fewer wake-ups per gigabyte (best effort)
}

void close_quietly(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// The lines of ssh's output that say something, without its banners of @ signs.
std::vector<std::string> meaningful_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty() || line[0] == '@') continue;
    lines.push_back(line);
  }
  return lines;
}

bool contains(const std::string& text, const char* needle) { return text.find(needle) != std::string::npos; }

}  // namespace

SshProcess::SshProcess(const SshTarget& target, const std::string& remote, SshRemote kind) {
  std::vector<std::string> argv = ssh_command(target, remote, kind);
  int in[2], out[2], err[2];
  make_pipe(in);
  try {
    make_pipe(out);
  } catch (...) {
    ::close(in[0]), ::close(in[1]);
    throw;
  }
  try {
    make_pipe(err);
  } catch (...) {
    ::close(in[0]), ::close(in[1]), ::close(out[0]), ::close(out[1]);
    throw;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setpgroup(&attributes, 0);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  std::vector<char*> args;
  for (std::string& word : argv) args.push_back(word.data());
  args.push_back(nullptr);
  int spawned = posix_spawnp(&pid_, args[0], &actions, &attributes, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  ::close(in[0]), ::close(out[1]), ::close(err[1]);
  input_ = in[1], output_ = out[0], errors_ = err[0];
  if (spawned != 0) {
    pid_ = -1;
    close_quietly(input_), close_quietly(output_), close_quietly(errors_);
    throw Error("cannot run " + argv[0] + " (install openssh-client, or set OBKEEP_SSH_COMMAND): " +
                std::strerror(spawned));
  }
  for (int fd : {input_, output_, errors_}) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

void SshProcess::kill() {
  if (pid_ > 0) ::kill(pid_, SIGKILL);
}

void SshProcess::end_now() {
  if (pid_ > 0) ::kill(pid_, SIGTERM);
}

SshProcess::~SshProcess() {
  close_quietly(input_);  // ssh sends EOF; the server's sftp ends, then ssh exits
  if (pid_ > 0) {
    using namespace std::chrono;
    auto deadline = steady_clock::now() + seconds(1);
    int status;
    pid_t reaped = 0;
    while ((reaped = waitpid(pid_, &status, WNOHANG)) == 0 && steady_clock::now() < deadline)
      std::this_thread::sleep_for(milliseconds(10));
    if (reaped == 0) {
      ::kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
    }
  }
  close_quietly(output_);
  close_quietly(errors_);
}

std::string describe(const SshTarget& target) {
  return (target.user.empty() ? "" : target.user + "@") + target.host +
         (target.port ? ":" + std::to_string(*target.port) : "");
}

long ssh_setting(const char* name, long fallback, long low, long high) {
  const char* value = std::getenv(name);
  if (!value || !*value) return fallback;
  char* end = nullptr;
  long number = std::strtol(value, &end, 10);
  if (*end || number < low || number > high)
    throw Error(std::string(name) + "=" + value + " is not a number from " + std::to_string(low) + " to " +
                    std::to_string(high),
                ExitCode::usage);
  return number;
}

Error ssh_failure(const std::string& endpoint, const std::string& stderr_text) {
  std::vector<std::string> lines = meaningful_lines(stderr_text);
  std::string last = lines.empty() ? "ssh ended without a message" : lines.back();
  if (contains(stderr_text, "REMOTE HOST IDENTIFICATION HAS CHANGED"))
    return Error("host key of " + endpoint +
                 " has changed (it does not match known_hosts; possible man-in-the-middle), refusing to connect");
  if (contains(stderr_text, "Host key verification failed") || contains(stderr_text, "host key is known"))
    return Error("host key of " + endpoint + " is unknown (not in known_hosts), refusing to connect");
  if (contains(stderr_text, "Permission denied ("))
    return Error("authentication to " + endpoint + " failed: " + last);
  if (contains(stderr_text, "subsystem request failed"))
    return Error("cannot start SFTP on " + endpoint + " (is the sftp subsystem enabled?): " + last);
  if (contains(stderr_text, "command not found") || contains(stderr_text, "No such file or directory"))
    return Error("cannot start obkeep serve on " + endpoint +
                 " (is obkeep installed there? OBKEEP_REMOTE_COMMAND names it): " + last);
  for (const char* unreachable : {"connect to host", "Could not resolve hostname", "Connection refused",
                                  "Connection timed out", "No route to host", "Network is unreachable",
                                  "Connection reset", "Connection closed", "Broken pipe"})
    if (contains(stderr_text, unreachable))
      return Error("cannot connect to " + endpoint + ": " + last, ExitCode::no_repository);
  return Error("cannot connect to " + endpoint + ": " + last);
}

}  // namespace obkeep::storage
