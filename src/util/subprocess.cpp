// fork/exec with three pipes, multiplexed with poll so neither side can deadlock.
#include "util/subprocess.hpp"

#include <fcntl.h>
#include <signal.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "util/error.hpp"
#include "util/interrupt.hpp"

extern char** environ;

namespace obkeep {

namespace {

// SIGTERM, then SIGKILL if the child has not exited 2 s later; returns its wait status.
int end_child(pid_t child) {
  ::kill(child, SIGTERM);
  int status = 0;
  for (int waited_ms = 0;; waited_ms += 20) {
    pid_t done = waitpid(child, &status, WNOHANG);
    if (done == child || (done < 0 && errno != EINTR)) return status;
    if (waited_ms == 2000) ::kill(child, SIGKILL);
    ::usleep(20000);
  }
}

}  // namespace

SubprocessResult run_subprocess(const std::vector<std::string>& argv, const std::map<std::string, std::string>& environment,
                                const std::function<void(ByteView)>& on_stdout,
                                const std::function<size_t(uint8_t*, size_t)>& fill_stdin, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  auto past_deadline = [&] { return timeout_ms > 0 && std::chrono::steady_clock::now() >= deadline; };
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) throw_system_error("cannot create pipes", errno);
  // Pipes of 1 MiB (the unprivileged limit) instead of 64 KiB: a gigabyte through a dump
  // tool or tar is then 1,000 wake-ups of each side, not 16,000 (costly in a VM). Best effort.
  for (int fd : {in[1], out[1]}) ::fcntl(fd, F_SETPIPE_SZ, 1 << 20);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    std::string entry = *e;
    std::string key = entry.substr(0, entry.find('='));
    if (!environment.count(key)) env_strings.push_back(entry);
  }
  for (const auto& [key, value] : environment) env_strings.push_back(key + "=" + value);
  std::vector<char*> env_pointers, arg_pointers;
  for (auto& entry : env_strings) env_pointers.push_back(entry.data());
  env_pointers.push_back(nullptr);
  std::vector<std::string> args = argv;
  for (auto& arg : args) arg_pointers.push_back(arg.data());
  arg_pointers.push_back(nullptr);

  pid_t child = fork();
  if (child < 0) throw_system_error("cannot fork", errno);
  if (child == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    execvpe(arg_pointers[0], arg_pointers.data(), env_pointers.data());
    std::fprintf(stderr, "cannot run %s: %s\n", arg_pointers[0], std::strerror(errno));
    _exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  if (!fill_stdin) {
    ::close(in[1]);
    in[1] = -1;
  } else {
    fcntl(in[1], F_SETFL, O_NONBLOCK);
  }
  std::string error_text;
  Bytes buffer(1 << 20), input;
  size_t input_offset = 0;
  bool out_open = true, err_open = true;
  std::exception_ptr failure;
  // Stops early when a callback fails (a full repository: the rest of the child's output
  // would only be read and thrown away) or a signal arrives; the child is then ended.
  bool stopped_early = false, timed_out = false;
  while (out_open || err_open) {
    if (failure || interrupted() || past_deadline()) {
      timed_out = !failure && !interrupted();
      stopped_early = true;
      break;
    }
    pollfd fds[3];
    int n = 0;
    if (out_open) fds[n++] = {out[0], POLLIN, 0};
    if (err_open) fds[n++] = {err[0], POLLIN, 0};
    if (in[1] >= 0) fds[n++] = {in[1], POLLOUT, 0};
    if (poll(fds, static_cast<nfds_t>(n), 200) < 0) {  // in slices, to notice a signal
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < n; ++i) {
      if (!fds[i].revents) continue;
      if (fds[i].fd == in[1]) {
        if (input_offset == input.size()) {
          input.resize(1 << 20);
          size_t got = 0;
          try {
            got = fill_stdin(input.data(), input.size());
          } catch (...) {
            failure = std::current_exception();
          }
          input.resize(got);
          input_offset = 0;
          if (got == 0) {
            ::close(in[1]);
            in[1] = -1;
            continue;
          }
        }
        ssize_t w = ::write(in[1], input.data() + input_offset, input.size() - input_offset);
        if (w > 0) input_offset += static_cast<size_t>(w);
        else if (w < 0 && errno != EAGAIN && errno != EINTR) {  // the child stopped reading
          ::close(in[1]);
          in[1] = -1;
        }
        continue;
      }
      ssize_t r = ::read(fds[i].fd, buffer.data(), buffer.size());
      if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (r <= 0) {
        if (fds[i].fd == out[0]) out_open = false;
        else err_open = false;
        continue;
      }
      if (fds[i].fd == out[0]) {
        if (!failure) {
          try {
            on_stdout(ByteView(buffer.data(), static_cast<size_t>(r)));
          } catch (...) {
            failure = std::current_exception();
          }
        }
      } else {
        error_text.append(reinterpret_cast<const char*>(buffer.data()), static_cast<size_t>(r));
        if (error_text.size() > 16384) error_text.erase(0, error_text.size() - 16384);
      }
    }
  }
  if (in[1] >= 0) ::close(in[1]);
  ::close(out[0]);
  ::close(err[0]);
  int status = 0;
  if (stopped_early) {
    status = end_child(child);
  } else if (timeout_ms > 0) {
    // Its output is closed but it may still run (a child that closed its pipes).
    for (;;) {
      pid_t done = waitpid(child, &status, WNOHANG);
      if (done == child || (done < 0 && errno != EINTR)) break;
      if (past_deadline()) {
        timed_out = true;
        status = end_child(child);
        break;
      }
      ::usleep(10000);
    }
  } else {
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
  }
  if (failure) std::rethrow_exception(failure);
  throw_if_interrupted();
  SubprocessResult result;
  result.timed_out = timed_out;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  while (!error_text.empty() && (error_text.back() == '\n' || error_text.back() == '\r')) error_text.pop_back();
  result.stderr_end = error_text;
  size_t last = error_text.rfind('\n');
  result.stderr_tail = last == std::string::npos ? error_text : error_text.substr(last + 1);
  return result;
}

void start_detached(const std::vector<std::string>& argv, const std::string& log_path) {
  // Built before fork: the child only calls async-signal-safe functions.
  std::vector<char*> arguments;
  for (const std::string& argument : argv) arguments.push_back(const_cast<char*>(argument.c_str()));
  arguments.push_back(nullptr);
  std::string exec_failed = "obkeep: cannot start " + argv.front() + "\n";
  pid_t child = ::fork();
  if (child < 0) throw_system_error("cannot start " + argv.front(), errno);
  if (child == 0) {
    // Forked twice, so that the grandchild is nobody's child to wait for (no zombie).
    if (::fork() != 0) ::_exit(0);
    ::setsid();
    int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (null >= 0) ::dup2(null, STDIN_FILENO), ::dup2(null, STDOUT_FILENO);
    if (log >= 0) ::dup2(log, STDERR_FILENO);
    ::execv(arguments[0], arguments.data());
    if (::write(STDERR_FILENO, exec_failed.data(), exec_failed.size()) < 0) ::_exit(127);
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
}

std::string last_lines(const std::string& text, size_t lines) {
  size_t position = text.size();
  for (size_t i = 0; i < lines && position != std::string::npos && position > 0; ++i) position = text.rfind('\n', position - 1);
  std::string tail = position == std::string::npos ? text : text.substr(position + 1);
  for (char& c : tail)
    if (c == '\n') c = ' ';
  return tail;
}

void run_setup_tool(const std::vector<std::string>& command, const std::string& what) {
  std::string report;
  SubprocessResult result = run_subprocess(command, {}, [&](ByteView data) {
    report.append(reinterpret_cast<const char*>(data.data()), data.size());
    if (report.size() > 65536) report.erase(0, report.size() - 16384);
  });
  if (result.exit_code != 0)
    throw Error(what + " failed: " + last_lines(result.stderr_end.empty() ? report : result.stderr_end, 2));
}

}  // namespace obkeep
