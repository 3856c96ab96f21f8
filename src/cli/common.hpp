// Helpers every command shares: the config, the password, opening the repository, output formats.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/cli.hpp"
#include "deploy/config.hpp"
#include "ops/log.hpp"
#include "ops/repository_access.hpp"
#include "repo/repository.hpp"
#include "util/format.hpp"

namespace obkeep::cli {

// From OBKEEP_PASSWORD, --password-file / OBKEEP_PASSWORD_FILE, or a terminal prompt.
std::string read_password(const GlobalOptions& global, const std::string& prompt = "repository password: ");
using ops::read_password_file;
// The password of a second repository (copy, init --copy-params-from): from `file`, else
// OBKEEP_FROM_PASSWORD, else the same as the main repository's.
std::string read_from_password(const GlobalOptions& global, const std::string& file);

// The bandwidth limits of a repository the command opens: --limit-upload/--limit-download
// when given, else the DR site's limit_upload/limit_download (for a site), else none.
storage::TransferLimits transfer_limits(const GlobalOptions& global, const deploy::DrSite* site = nullptr);

// The config --config/OBKEEP_CONFIG names, loaded once; its warnings go to stderr then.
// Error (usage) naming `command` when none is given.
const deploy::Config& config_of(const GlobalOptions& global, const std::string& command);

// The repository options completed from the config, when one is given: a value given as
// -r/--repo or OBKEEP_REPOSITORY, or a password given as --password-file,
// OBKEEP_PASSWORD_FILE or OBKEEP_PASSWORD, wins over the config's [repository].
GlobalOptions with_config(const GlobalOptions& global);

// How operations reach the primary repository (with_config's; --site is not applied).
ops::RepositoryAccess repository_access(const GlobalOptions& global);

// What a command opens: the DR site --site names (from the config), else the primary.
// `prefetch`: as ops::open_repository's.
std::unique_ptr<repo::Repository> open_repository(const GlobalOptions& global,
                                                  const std::vector<storage::FileType>& prefetch = {});
// open_repository(), or, when there is no repository there yet, one created related to
// `source()` (as init --copy-params-from makes it); `created` says which.
std::unique_ptr<repo::Repository> open_or_create_repository(const GlobalOptions& global, const ops::RelatedSource& source,
                                                            bool* created);
using ops::open_repository;

// Operations' messages on stderr; notes only without --quiet.
ops::Log stderr_log(const GlobalOptions& global);

// Writes `text` beside `path` and renames it over `path`, so a reader (a metrics scraper,
// a browser) never sees half a file.
void write_file_atomically(const std::string& path, const std::string& text);

using obkeep::format_bytes;
using obkeep::format_duration;

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
