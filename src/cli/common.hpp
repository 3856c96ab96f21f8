// Helpers every command shares: the password, opening the repository, output formats.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/cli.hpp"
#include "deploy/config.hpp"
#include "repo/repository.hpp"

namespace obkeep::cli {

// From OBKEEP_PASSWORD, --password-file / OBKEEP_PASSWORD_FILE, or a terminal prompt.
std::string read_password(const GlobalOptions& global, const std::string& prompt = "repository password: ");
std::string read_password_file(const std::string& path);
// The password of a second repository (copy, init --copy-params-from): from `file`, else
// OBKEEP_FROM_PASSWORD, else the same as the main repository's.
std::string read_from_password(const GlobalOptions& global, const std::string& file);

// The bandwidth limits of a repository the command opens: --limit-upload/--limit-download
// when given, else the DR site's limit_upload/limit_download (for a site), else none.
storage::TransferLimits transfer_limits(const GlobalOptions& global, const deploy::DrSite* site = nullptr);

std::unique_ptr<repo::Repository> open_repository(const GlobalOptions& global);
std::unique_ptr<repo::Repository> open_repository(const std::string& url, const std::string& password,
                                                  const storage::TransferLimits& limits);

// Writes `text` beside `path` and renames it over `path`, so a reader (a metrics scraper,
// a browser) never sees half a file.
void write_file_atomically(const std::string& path, const std::string& text);

std::string format_bytes(uint64_t bytes);
std::string format_duration(double seconds);

// Prints a live line on stderr every 250 ms while `line` is non-empty and stderr is a
// terminal; stops and clears the line when destroyed.
class ProgressLine {
 public:
  ProgressLine(const GlobalOptions& global, std::function<std::string(double elapsed_s)> line);
  ~ProgressLine();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace obkeep::cli
