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
#include <map>
#include <sstream>
#include <thread>

#include "storage/prefetch/prefetching_backend.hpp"
#include "util/error.hpp"

namespace obkeep::cli {

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
  return ops::transfer_limits(repository_access(global), site);
}

const deploy::Config& config_of(const GlobalOptions& global, const std::string& command) {
  if (global.config.empty())
    throw Error(command + " needs --config FILE (or OBKEEP_CONFIG): the deployment config", ExitCode::usage);
  // One process runs one command: a config is read (and warned about) once however often it is asked for.
  static std::map<std::string, deploy::Config> loaded;
  auto found = loaded.find(global.config);
  if (found == loaded.end()) {
    found = loaded.emplace(global.config, deploy::load_config(global.config)).first;
    for (const std::string& warning : found->second.warnings) std::cerr << "obkeep: warning: " << warning << "\n";
  }
  return found->second;
}

GlobalOptions with_config(const GlobalOptions& global) {
  GlobalOptions resolved = global;
  if (global.config.empty()) return resolved;
  const deploy::Config& config = config_of(global, "");
  if (resolved.repository.empty()) resolved.repository = config.repository_url;
  const char* password = std::getenv("OBKEEP_PASSWORD");
  if (resolved.password_file.empty() && !(password && *password)) resolved.password_file = config.password_file;
  return resolved;
}

ops::RepositoryAccess repository_access(const GlobalOptions& global) {
  GlobalOptions resolved = with_config(global);
  return {resolved.repository, [resolved] { return read_password(resolved); }, resolved.limit_upload_kib,
          resolved.limit_download_kib};
}

namespace {

// The DR site --site names (nullptr without --site).
const deploy::DrSite* chosen_site(const GlobalOptions& global) {
  if (global.site.empty()) return nullptr;
  if (global.config.empty())
    throw Error("--site " + global.site + " needs --config FILE (or OBKEEP_CONFIG): the DR sites are in the config",
                ExitCode::usage);
  return &ops::find_site(config_of(global, "--site"), global.site);
}

GlobalOptions with_repository(const GlobalOptions& global) {
  GlobalOptions resolved = with_config(global);
  if (resolved.repository.empty())
    throw Error("no repository given (use -r/--repo, OBKEEP_REPOSITORY or --config)", ExitCode::usage);
  return resolved;
}

}  // namespace

std::unique_ptr<repo::Repository> open_or_create_repository(const GlobalOptions& global, const ops::RelatedSource& source,
                                                            bool* created) {
  if (const deploy::DrSite* site = chosen_site(global))
    return ops::open_or_create_site(*site, repository_access(global), source, created);
  GlobalOptions resolved = with_repository(global);
  return repo::Repository::open_or_create(storage::open_backend(resolved.repository, transfer_limits(resolved)),
                                          read_password(resolved), [&] { return repo::copy_params_of(source()); }, created);
}

std::unique_ptr<repo::Repository> open_repository(const GlobalOptions& global, const std::vector<storage::FileType>& prefetch) {
  if (const deploy::DrSite* site = chosen_site(global)) return ops::open_site(*site, repository_access(global), prefetch);
  GlobalOptions resolved = with_repository(global);
  auto backend = storage::with_prefetch(storage::open_backend(resolved.repository, transfer_limits(resolved)), prefetch);
  // A password that must be asked for is asked only of a repository that exists; one given
  // up front lets the open read the config and the keys at once (one round trip less).
  bool password_given = !resolved.password_file.empty() || (std::getenv("OBKEEP_PASSWORD") && *std::getenv("OBKEEP_PASSWORD"));
  if (!password_given && !backend->stat({storage::FileType::config, "config"}))
    throw Error("no repository at " + resolved.repository, ExitCode::no_repository);
  return repo::Repository::open(std::move(backend), read_password(resolved));
}

ops::Log stderr_log(const GlobalOptions& global) {
  bool quiet = global.quiet;
  return [quiet](ops::LogLevel level, const std::string& text) {
    if (level == ops::LogLevel::note && quiet) return;
    std::cerr << text << std::flush;
  };
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
