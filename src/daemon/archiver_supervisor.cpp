#include "daemon/archiver_supervisor.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "daemon/log_line.hpp"
#include "util/host.hpp"

namespace obkeep::daemon {

namespace {

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("killed by signal ") + std::to_string(WTERMSIG(status));
  return "ended";
}

}  // namespace

ArchiverSupervisor::ArchiverSupervisor(std::vector<Command> commands, std::function<void(bool, const std::string&)> log)
    : log_(std::move(log)) {
  for (Command& command : commands) children_.push_back({std::move(command)});
  {
    std::lock_guard lock(mutex_);
    for (Child& child : children_) start(child);
  }
  thread_ = std::thread([this] { supervise(); });
}

ArchiverSupervisor::~ArchiverSupervisor() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  stop_all();
}

size_t ArchiverSupervisor::running() const {
  std::lock_guard lock(mutex_);
  return static_cast<size_t>(std::count_if(children_.begin(), children_.end(), [](const Child& c) { return c.pid > 0; }));
}

void ArchiverSupervisor::start(Child& child) {
  std::vector<char*> argv;
  for (std::string& arg : child.command.argv) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);  // a terminal's Ctrl-C reaches the daemon, which stops its children itself
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execv(argv[0], argv.data());
    std::fprintf(stderr, "cannot run %s: %s\n", argv[0], std::strerror(errno));
    _exit(127);
  }
  child.started_ns = now_unix_nanos();
  if (pid < 0) {
    child.failures++;
    child.restart_at_ns = child.started_ns + second_ns;
    log_(false, logfmt("archiver", child.command.name) + logfmt("error", std::string("cannot fork: ") + std::strerror(errno)));
    return;
  }
  child.pid = pid;
  log_(true, logfmt("archiver", child.command.name) + logfmt("started", std::to_string(pid)));
}

void ArchiverSupervisor::supervise() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    int64_t now = now_unix_nanos();
    for (Child& child : children_) {
      int status = 0;
      if (child.pid > 0 && waitpid(child.pid, &status, WNOHANG) == child.pid) {
        child.pid = -1;
        // One that ran a while was fine until now: it starts again after a second.
        if (now - child.started_ns > 60 * second_ns) child.failures = 0;
        int64_t pause = std::min<int64_t>(60, int64_t{1} << std::min(child.failures, 6));
        child.failures++;
        child.restart_at_ns = now + pause * second_ns;
        log_(false, logfmt("archiver", child.command.name) + logfmt("ended", describe_status(status)) +
                        logfmt("restart_in_s", std::to_string(pause)));
      }
      if (child.pid < 0 && now >= child.restart_at_ns) start(child);
    }
    wake_.wait_for(lock, std::chrono::milliseconds(250), [this] { return stopping_; });
  }
}

void ArchiverSupervisor::stop_all() {
  for (Child& child : children_)
    if (child.pid > 0) kill(child.pid, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (Child& child : children_) {
    while (child.pid > 0) {
      int status = 0;
      if (waitpid(child.pid, &status, WNOHANG) == child.pid) {
        log_(true, logfmt("archiver", child.command.name) + logfmt("stopped", describe_status(status)));
        child.pid = -1;
      } else if (std::chrono::steady_clock::now() > deadline) {
        kill(child.pid, SIGKILL);
        waitpid(child.pid, &status, 0);
        log_(false, logfmt("archiver", child.command.name) + logfmt("stopped", "killed after 10 s"));
        child.pid = -1;
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
  }
}

}  // namespace obkeep::daemon
