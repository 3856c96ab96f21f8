// `obkeep wal-push PATH` and `obkeep wal-fetch NAME DEST`: PostgreSQL's archive_command and
// restore_command over db/postgres/wal_archive.hpp; `wal-push --async --spool DIR` spools
// the file and leaves the push to a drainer process (db/postgres/wal_spool.hpp);
// `wal-fetch --prefetch N --spool DIR` has a prefetcher fetch ahead (db/postgres/wal_prefetch.hpp).
#include <filesystem>

#include "cli/common.hpp"
#include "db/postgres/wal_archive.hpp"
#include "db/postgres/wal_file.hpp"
#include "db/postgres/wal_prefetch.hpp"
#include "db/postgres/wal_spool.hpp"
#include "repo/lock.hpp"
#include "repo/tree.hpp"
#include "util/error.hpp"
#include "util/subprocess.hpp"
#include "util/whole_file.hpp"

namespace obkeep::cli {

namespace {

struct PushOptions {
  std::string path;
  std::string stanza = "main";
  bool async = false;
  bool drain = false;
  std::string spool;
};

struct FetchOptions {
  std::string name, destination;
  std::string stanza = "main";
  size_t prefetch = 0;
  bool prefetcher = false;
  std::string spool;
};

// A background worker (the push spool's drainer, the prefetcher) is this program again, with
// the repository options this call was given (the environment, OBKEEP_PASSWORD among them,
// is inherited), running `command`.
std::vector<std::string> background_command(const GlobalOptions& global, const std::vector<std::string>& command) {
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
  argv.insert(argv.end(), command.begin(), command.end());
  return argv;
}

int push_async(const GlobalOptions& global, const PushOptions& options) {
  db::WalSpool spool(options.spool, options.stanza);
  std::optional<std::string> failure = spool.failure();
  if (!failure) spool.add(options.path);
  // After the file is in the queue: a drainer that is just ending sees it (wal_spool.cpp).
  if (spool.drainer_missing())
    start_detached(background_command(global, {"wal-push", "--drain", "--spool", options.spool, "--stanza", options.stanza}),
                   spool.log_path());
  // PostgreSQL keeps the file and tries again; meanwhile the new drainer retries the queue.
  if (failure) throw Error(*failure + " (spool " + spool.folder() + ")");
  return 0;
}

// Fetches the file PostgreSQL asks for: from the prefetch spool when it is there, else from
// the repository; then, with --prefetch, records the request so that a prefetcher (started
// when none runs) fetches the segments after it.
int fetch(const GlobalOptions& global, const FetchOptions& options) {
  std::string name = db::wal_file_name(options.name);
  std::optional<db::WalPrefetch> spool;
  if (options.prefetch) spool.emplace(options.spool, options.stanza);
  // The request is recorded before the file is taken: the prefetcher then never fetches
  // again what was just taken.
  if (spool)
    if (std::optional<uint64_t> bytes = spool->prefetched_size(name)) spool->want(name, *bytes);
  bool found = spool && spool->take(name, options.destination);
  if (!found && !options.spool.empty()) {
    // Pushed asynchronously on this machine and not drained yet: the spool has the only copy.
    std::string queued = db::WalSpool(options.spool, options.stanza).queue() + "/" + name;
    if (std::filesystem::exists(queued)) {
      write_file_durably(options.destination, read_whole_file(queued, "spooled WAL file"), "WAL file");
      found = true;
    }
  }
  if (!found) {
    auto repository = open_repository(global);
    repo::RepositoryLock lock(*repository, false);
    found = db::fetch_wal_file(*repository, options.stanza, name, options.destination);
  }
  if (!found) {
    std::optional<db::WalFile> file = db::parse_wal_file(name, db::default_wal_segment_bytes);
    if (spool && file && file->kind == db::WalFile::Kind::segment) spool->discard_all();  // the archive ends here
    // Not found is normal at the end of the archive: PostgreSQL asks for the next file.
    throw Error("WAL file " + name + " is not in the archive (stanza " + options.stanza + ")");
  }
  if (!spool) return 0;
  // A segment's size is the cluster's segment size, which its successors' names depend on.
  std::error_code error;
  uint64_t bytes = std::filesystem::file_size(options.destination, error);
  std::optional<db::WalFile> file = error ? std::nullopt : db::parse_wal_file(name, bytes);
  if (!file || file->kind != db::WalFile::Kind::segment || bytes < (1u << 20) || (bytes & (bytes - 1))) return 0;
  spool->want(name, bytes);
  if (!spool->missing_ahead(options.prefetch).empty() && spool->prefetcher_missing())
    start_detached(background_command(global, {"wal-fetch", "--prefetcher", "--spool", options.spool, "--stanza",
                                               options.stanza, "--prefetch", std::to_string(options.prefetch)}),
                   spool->log_path());
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

  auto* fetch_command =
      app.add_subcommand("wal-fetch", "restore an archived WAL file (restore_command = 'obkeep wal-fetch %f %p')");
  auto fetch_options = std::make_shared<FetchOptions>();
  fetch_command->add_option("name", fetch_options->name, "the WAL file name (%f)");
  fetch_command->add_option("destination", fetch_options->destination, "where to write it (%p)");
  fetch_command->add_option("--stanza", fetch_options->stanza, "name of the cluster's archive (default main)");
  fetch_command->add_option("--prefetch", fetch_options->prefetch,
                            "keep the next N segments fetched in the background into the spool (--spool)")
      ->check(CLI::Range(0, 256));
  fetch_command->add_option("--spool", fetch_options->spool,
                            "the local folder for --prefetch; a file wal-push --async spooled there and not pushed yet "
                            "is fetched from it")
      ->envname("OBKEEP_WAL_SPOOL");
  fetch_command->add_flag("--prefetcher", fetch_options->prefetcher,
                          "run as the spool's prefetcher (wal-fetch --prefetch starts it)");
  fetch_command->callback([&context, fetch_options] {
    context.action = [&context, fetch_options] {
      const FetchOptions& options = *fetch_options;
      if (!repo::is_safe_name(options.stanza)) throw Error("not a stanza name: " + options.stanza, ExitCode::usage);
      if ((options.prefetch || options.prefetcher) && options.spool.empty())
        throw Error("wal-fetch --prefetch needs --spool DIR (or OBKEEP_WAL_SPOOL)", ExitCode::usage);
      if (options.prefetcher) {
        if (!options.name.empty()) throw Error("wal-fetch --prefetcher takes no WAL file", ExitCode::usage);
        db::WalPrefetch spool(options.spool, options.stanza);
        auto repository = open_repository(context.global);
        db::PrefetchOptions prefetch;
        prefetch.ahead = std::max<size_t>(1, options.prefetch);
        db::run_wal_prefetcher(spool, *repository, prefetch);
        return 0;
      }
      if (options.name.empty() || options.destination.empty())
        throw Error("wal-fetch needs the WAL file name (%f) and the destination (%p)", ExitCode::usage);
      return fetch(context.global, options);
    };
  });
}

}  // namespace obkeep::cli
