// `obkeep wal-push PATH` and `obkeep wal-fetch NAME DEST`: PostgreSQL's archive_command and
// restore_command over db/postgres/wal_archive.hpp; `wal-push --async --spool DIR` spools
// the file and leaves the push to a drainer process (db/postgres/wal_spool.hpp).
#include <filesystem>

#include "cli/common.hpp"
#include "db/postgres/wal_archive.hpp"
#include "db/postgres/wal_spool.hpp"
#include "repo/lock.hpp"
#include "repo/tree.hpp"
#include "util/error.hpp"
#include "util/subprocess.hpp"

namespace obkeep::cli {

namespace {

struct PushOptions {
  std::string path;
  std::string stanza = "main";
  bool async = false;
  bool drain = false;
  std::string spool;
};

// The drainer is this program again, with the repository options this call was given
// (the environment, OBKEEP_PASSWORD among them, is inherited).
std::vector<std::string> drainer_command(const GlobalOptions& global, const PushOptions& options) {
  std::error_code error;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) throw Error("cannot find the obkeep binary to start the WAL spool's drainer: " + error.message());
  std::vector<std::string> argv = {self.string()};
  auto add = [&](const char* flag, const std::string& value) {
    if (!value.empty()) argv.insert(argv.end(), {flag, value});
  };
  add("--repo", global.repository);
  add("--password-file", global.password_file);
  add("--config", global.config);
  add("--site", global.site);
  if (global.limit_upload_kib) add("--limit-upload", std::to_string(*global.limit_upload_kib));
  if (global.limit_download_kib) add("--limit-download", std::to_string(*global.limit_download_kib));
  argv.insert(argv.end(), {"wal-push", "--drain", "--spool", options.spool, "--stanza", options.stanza});
  return argv;
}

int push_async(const GlobalOptions& global, const PushOptions& options) {
  db::WalSpool spool(options.spool, options.stanza);
  std::optional<std::string> failure = spool.failure();
  if (!failure) spool.add(options.path);
  // After the file is in the queue: a drainer that is just ending sees it (wal_spool.cpp).
  if (spool.drainer_missing()) start_detached(drainer_command(global, options), spool.log_path());
  // PostgreSQL keeps the file and tries again; meanwhile the new drainer retries the queue.
  if (failure) throw Error(*failure + " (spool " + spool.folder() + ")");
  return 0;
}

}  // namespace

void add_wal_commands(CLI::App& app, Context& context) {
  auto* push = app.add_subcommand("wal-push", "archive a PostgreSQL WAL file (archive_command = 'obkeep wal-push %p')");
  auto options = std::make_shared<PushOptions>();
  push->add_option("path", options->path, "the WAL file (%p)");
  push->add_option("--stanza", options->stanza, "name of the cluster's archive (default main)");
  push->add_flag("--async", options->async,
                 "copy the file into the spool (--spool) and return; a background process pushes spooled files");
  push->add_flag("--drain", options->drain, "push every file in the spool (--spool) now, then return");
  push->add_option("--spool", options->spool, "the local folder for --async and --drain")->envname("OBKEEP_WAL_SPOOL");
  push->callback([&context, options] {
    context.action = [&context, options] {
      if (!repo::is_safe_name(options->stanza)) throw Error("not a stanza name: " + options->stanza, ExitCode::usage);
      if ((options->async || options->drain) && options->spool.empty())
        throw Error("wal-push --async and --drain need --spool DIR (or OBKEEP_WAL_SPOOL)", ExitCode::usage);
      if (options->drain) {
        if (!options->path.empty()) throw Error("wal-push --drain takes no WAL file", ExitCode::usage);
        db::WalSpool spool(options->spool, options->stanza);
        bool ok = db::drain_wal_spool(spool, [&] { return open_repository(context.global); });
        if (!ok) throw Error(spool.failure().value_or("asynchronous WAL push failed"));
        return 0;
      }
      if (options->path.empty()) throw Error("wal-push needs the WAL file (%p)", ExitCode::usage);
      if (options->async) return push_async(context.global, *options);
      auto repository = open_repository(context.global);
      repo::RepositoryLock lock(*repository, false);
      db::push_wal_file(*repository, options->stanza, options->path);
      return 0;
    };
  });

  auto* fetch = app.add_subcommand("wal-fetch", "restore an archived WAL file (restore_command = 'obkeep wal-fetch %f %p')");
  auto stanza = std::make_shared<std::string>("main");
  auto fetch_name = std::make_shared<std::string>(), fetch_destination = std::make_shared<std::string>();
  fetch->add_option("name", *fetch_name, "the WAL file name (%f)")->required();
  fetch->add_option("destination", *fetch_destination, "where to write it (%p)")->required();
  fetch->add_option("--stanza", *stanza, "name of the cluster's archive (default main)");
  fetch->callback([&context, stanza, fetch_name, fetch_destination] {
    context.action = [&context, stanza, fetch_name, fetch_destination] {
      std::string name = db::wal_file_name(*fetch_name);
      auto repository = open_repository(context.global);
      repo::RepositoryLock lock(*repository, false);
      // Not found is normal at the end of the archive: PostgreSQL asks for the next file.
      if (!db::fetch_wal_file(*repository, *stanza, name, *fetch_destination))
        throw Error("WAL file " + name + " is not in the archive (stanza " + *stanza + ")");
      return 0;
    };
  });
}

}  // namespace obkeep::cli
