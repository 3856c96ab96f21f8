// Builds the command tree, runs the chosen command and turns errors into exit codes.
#include "cli/cli.hpp"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "util/error.hpp"
#include "util/allocator.hpp"
#include "util/interrupt.hpp"

namespace obkeep::cli {

namespace {

using Registrar = void (*)(CLI::App&, Context&);

// One line per command; each add_*_command lives in src/cli/<command>.cpp.
const Registrar registrars[] = {
    add_version_command, add_init_command,  add_backup_command, add_snapshots_command, add_restore_command,
    add_ls_command,      add_diff_command,  add_check_command,  add_forget_command,    add_prune_command,
    add_key_command,     add_unlock_command, add_with_lock_command, add_discover_command,
    add_sample_deployment_command, add_restore_db_command, add_base_backup_command, add_wal_commands, add_binlog_archive_command,
    add_copy_command, add_status_command, add_drill_command, add_serve_command, add_daemon_command, add_archive_ls_command,
};

// A bandwidth limit in KiB/s: absent when not given, else a whole number (0: unlimited).
// The largest, 2^32 KiB/s (4 TiB/s), is far beyond any link and keeps bytes/s from overflowing.
std::optional<uint64_t> parse_limit(const char* option, const char* variable, const std::string& text) {
  if (text.empty()) return std::nullopt;
  constexpr uint64_t largest = uint64_t(1) << 32;
  uint64_t value = 0;
  bool valid = text.size() <= 10 && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (valid) value = std::stoull(text);
  if (!valid || value > largest)
    throw Error(std::string("bad ") + option + "/" + variable + " '" + text + "': want a whole number of KiB/s up to " +
                    std::to_string(largest) + " (0: unlimited)",
                ExitCode::usage);
  return value;
}

}  // namespace

int run(int argc, char** argv) {
  // First of all: a signal that comes while the command line is parsed still means exit 130.
  install_interrupt_handlers();
  limit_allocator_arenas();
  CLI::App app{"obkeep: backup and disaster recovery for WSO2 Open Banking deployments", "obkeep"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("obkeep ") + OBKEEP_VERSION);
  Context context;
  GlobalOptions& global = context.global;
  app.add_option("-r,--repo", global.repository, "repository: a local path, sftp://[user@]host[:port]/path, ssh://[user@]host[:port]/[path] (obkeep serve on the host), or s3://host[:port]/bucket[/prefix][?connections=N&object_lock_days=D&object_lock_mode=compliance|governance] (s3+http:// without TLS; credentials from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY; N requests in flight, default OBKEEP_S3_CONNECTIONS or 8; D days of S3 Object Lock retention on every object written)")
      ->envname("OBKEEP_REPOSITORY");
  app.add_option("--password-file", global.password_file, "file holding the repository password")
      ->envname("OBKEEP_PASSWORD_FILE");
  app.add_option("--config", global.config,
                 "the deployment config (obkeep.toml): its [repository] url and password_file unless -r/--repo, "
                 "OBKEEP_REPOSITORY, --password-file, OBKEEP_PASSWORD_FILE or OBKEEP_PASSWORD say otherwise")
      ->envname("OBKEEP_CONFIG");
  app.add_option("--site", global.site,
                 "a [[dr_site]] of the config: open its repository instead (copy: copy only to it; drill: restore from it; "
                 "status: judge only its objectives)");
  std::string limit_upload, limit_download;
  app.add_option("--limit-upload", limit_upload, "limit uploads to every repository to KIB KiB/s (0: unlimited; overrides a DR site's limit_upload)")
      ->envname("OBKEEP_LIMIT_UPLOAD")
      ->type_name("KIB");
  app.add_option("--limit-download", limit_download, "limit downloads from every repository to KIB KiB/s (0: unlimited; overrides a DR site's limit_download)")
      ->envname("OBKEEP_LIMIT_DOWNLOAD")
      ->type_name("KIB");
  app.add_flag("--json", global.json, "machine-readable output");
  app.add_flag("-q,--quiet", global.quiet, "print only errors");
  app.add_flag("-v,--verbose", global.verbose, "say more (repeat for more)");
  app.fallthrough();  // global options may follow the subcommand

  for (Registrar add : registrars) add(app, context);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    // One line, like every other error (CLI11's own message adds a second).
    std::cerr << "obkeep: " << e.what() << " (see --help)\n";
    return static_cast<int>(ExitCode::usage);
  }
  try {
    if (!context.action) return static_cast<int>(ExitCode::usage);
    global.limit_upload_kib = parse_limit("--limit-upload", "OBKEEP_LIMIT_UPLOAD", limit_upload);
    global.limit_download_kib = parse_limit("--limit-download", "OBKEEP_LIMIT_DOWNLOAD", limit_download);
    throw_if_interrupted();
    return context.action();
  } catch (const Error& e) {
    std::cerr << "obkeep: " << e.what() << "\n";
    return static_cast<int>(e.code());
  } catch (const std::bad_alloc&) {
    std::cerr << "obkeep: out of memory\n";
    return static_cast<int>(ExitCode::error);
  } catch (const std::exception& e) {
    std::cerr << "obkeep: " << e.what() << "\n";
    return static_cast<int>(ExitCode::error);
  }
}

}  // namespace obkeep::cli
