// Password sources, repository opening, byte and duration formatting, the progress line.
#include "cli/common.hpp"

#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "util/error.hpp"

namespace obkeep::cli {

std::string read_password_file(const std::string& path) {
  std::ifstream file(path);
  if (!file) throw Error("cannot read password file " + path);
  std::string password;
  std::getline(file, password);
  if (password.empty()) throw Error("password file " + path + " is empty");
  return password;
}

std::string read_password(const GlobalOptions& global, const std::string& prompt) {
  if (!global.password_file.empty()) return read_password_file(global.password_file);
  if (const char* password = std::getenv("OBKEEP_PASSWORD"); password && *password) return password;
  if (!isatty(STDIN_FILENO))
    throw Error("no password given: set OBKEEP_PASSWORD or OBKEEP_PASSWORD_FILE, or use --password-file",
                ExitCode::usage);
  std::cerr << prompt << std::flush;
  termios saved{}, quiet{};
  tcgetattr(STDIN_FILENO, &saved);
  quiet = saved;
  quiet.c_lflag &= static_cast<tcflag_t>(~ECHO);
  tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  std::string password;
  std::getline(std::cin, password);
  tcsetattr(STDIN_FILENO, TCSANOW, &saved);
  std::cerr << "\n";
  if (password.empty()) throw Error("empty password", ExitCode::usage);
  return password;
}

std::string read_from_password(const GlobalOptions& global, const std::string& file) {
  if (!file.empty()) return read_password_file(file);
  if (const char* password = std::getenv("OBKEEP_FROM_PASSWORD"); password && *password) return password;
  return read_password(global, "source repository password: ");
}

storage::TransferLimits transfer_limits(const GlobalOptions& global, const deploy::DrSite* site) {
  auto pick = [&](const std::optional<uint64_t>& given, std::optional<uint64_t> deploy::DrSite::*key) {
    std::optional<uint64_t> kib = given;
    if (!kib && site) kib = site->*key;
    return kib.value_or(0) * 1024;
  };
  return {pick(global.limit_upload_kib, &deploy::DrSite::limit_upload_kib),
          pick(global.limit_download_kib, &deploy::DrSite::limit_download_kib)};
}

std::unique_ptr<repo::Repository> open_repository(const std::string& url, const std::string& password,
                                                  const storage::TransferLimits& limits) {
  return repo::Repository::open(storage::open_backend(url, limits), password);
}

std::unique_ptr<repo::Repository> open_repository(const GlobalOptions& global) {
  if (global.repository.empty())
    throw Error("no repository given (use -r/--repo or OBKEEP_REPOSITORY)", ExitCode::usage);
  auto backend = storage::open_backend(global.repository, transfer_limits(global));
  // A password that must be asked for is asked only of a repository that exists; one given
  // up front lets the open read the config and the keys at once (one round trip less).
  bool password_given = !global.password_file.empty() || (std::getenv("OBKEEP_PASSWORD") && *std::getenv("OBKEEP_PASSWORD"));
  if (!password_given && !backend->stat({storage::FileType::config, "config"}))
    throw Error("no repository at " + global.repository, ExitCode::no_repository);
  return repo::Repository::open(std::move(backend), read_password(global));
}

void write_file_atomically(const std::string& path, const std::string& text) {
  std::string temporary = path + ".tmp-" + std::to_string(getpid());
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << text;
    if (!out.flush()) {
      std::remove(temporary.c_str());
      throw Error("cannot write " + temporary);
    }
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    std::remove(temporary.c_str());
    throw Error("cannot write " + path + ": " + std::strerror(errno));
  }
}

std::string format_bytes(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, unit == 0 ? "%.0f %s" : "%.2f %s", value, units[unit]);
  return text;
}

std::string format_duration(double seconds) {
  long total = static_cast<long>(seconds);
  char text[32];
  if (total >= 3600)
    std::snprintf(text, sizeof text, "%ld:%02ld:%02ld", total / 3600, total / 60 % 60, total % 60);
  else
    std::snprintf(text, sizeof text, "%ld:%02ld", total / 60, total % 60);
  return text;
}

struct ProgressLine::State {
  std::function<std::string(double)> line;
  std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;
  std::thread thread;
};

ProgressLine::ProgressLine(const GlobalOptions& global, std::function<std::string(double)> line) {
  if (global.quiet || global.json || !isatty(STDERR_FILENO)) return;
  state_ = std::make_unique<State>();
  state_->line = std::move(line);
  state_->thread = std::thread([state = state_.get()] {
    auto start = std::chrono::steady_clock::now();
    std::unique_lock lock(state->mutex);
    while (!state->wake.wait_for(lock, std::chrono::milliseconds(250), [state] { return state->stopping; })) {
      double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::string text = state->line(elapsed);
      std::fprintf(stderr, "\r\033[K%s", text.c_str());
      std::fflush(stderr);
    }
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
  });
}

ProgressLine::~ProgressLine() {
  if (!state_) return;
  {
    std::lock_guard lock(state_->mutex);
    state_->stopping = true;
  }
  state_->wake.notify_all();
  state_->thread.join();
}

}  // namespace obkeep::cli
