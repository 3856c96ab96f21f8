// The command-line front end: one file per command registers its subcommand here.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace obkeep::cli {

// Options every command accepts.
struct GlobalOptions {
  std::string repository;     // -r/--repo or OBKEEP_REPOSITORY
  std::string password_file;  // --password-file or OBKEEP_PASSWORD_FILE
  std::string config;         // --config or OBKEEP_CONFIG: the deployment config (obkeep.toml)
  std::string site;           // --site: a [[dr_site]] of the config
  // --limit-upload / --limit-download or OBKEEP_LIMIT_UPLOAD / OBKEEP_LIMIT_DOWNLOAD, in
  // KiB/s (0: unlimited); absent when not given, so a DR site's own limit applies.
  std::optional<uint64_t> limit_upload_kib, limit_download_kib;
  bool json = false;
  bool quiet = false;
  int verbose = 0;
};

// What a parsed command line asks for: set by the chosen subcommand's callback.
struct Context {
  GlobalOptions global;
  std::function<int()> action;  // returns the exit code; throws obkeep::Error
};

// Each command file defines one of these; cli.cpp calls them all.
void add_version_command(CLI::App& app, Context& context);
void add_init_command(CLI::App& app, Context& context);
void add_backup_command(CLI::App& app, Context& context);
void add_snapshots_command(CLI::App& app, Context& context);
void add_archive_ls_command(CLI::App& app, Context& context);
void add_restore_command(CLI::App& app, Context& context);
void add_ls_command(CLI::App& app, Context& context);
void add_diff_command(CLI::App& app, Context& context);
void add_check_command(CLI::App& app, Context& context);
void add_forget_command(CLI::App& app, Context& context);
void add_prune_command(CLI::App& app, Context& context);
void add_key_command(CLI::App& app, Context& context);
void add_unlock_command(CLI::App& app, Context& context);
void add_with_lock_command(CLI::App& app, Context& context);
void add_discover_command(CLI::App& app, Context& context);
void add_sample_deployment_command(CLI::App& app, Context& context);
void add_restore_db_command(CLI::App& app, Context& context);
void add_base_backup_command(CLI::App& app, Context& context);
void add_wal_commands(CLI::App& app, Context& context);
void add_binlog_archive_command(CLI::App& app, Context& context);
void add_copy_command(CLI::App& app, Context& context);
void add_status_command(CLI::App& app, Context& context);
void add_drill_command(CLI::App& app, Context& context);
void add_serve_command(CLI::App& app, Context& context);
void add_daemon_command(CLI::App& app, Context& context);

// Parses argv, runs the command, maps obkeep::Error to its exit code and prints
// "obkeep: <message>" on stderr.
int run(int argc, char** argv);

}  // namespace obkeep::cli
