// `obkeep wal-push PATH` and `obkeep wal-fetch NAME DEST`: PostgreSQL's archive_command and
// restore_command. Each WAL file (or timeline history file) becomes a snapshot tagged
// set=wal, stanza=<name> and wal=<file name>, chunked, deduplicated and encrypted like
// everything else.
#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>

#include "cli/common.hpp"
#include "db/repository_dump_store.hpp"
#include "repo/lock.hpp"
#include "repo/snapshot.hpp"
#include "repo/tree.hpp"
#include "util/error.hpp"
#include "util/host.hpp"

namespace obkeep::cli {

namespace fs = std::filesystem;

namespace {

std::vector<std::string> wal_tags(const std::string& stanza, const std::string& name) {
  return {"set=wal", "stanza=" + stanza, "wal=" + name};
}

std::optional<repo::Snapshot> find_wal(repo::Repository& repository, const std::string& stanza, const std::string& name) {
  std::vector<std::string> tags = wal_tags(stanza, name);
  for (const repo::Snapshot& snapshot : repo::list_snapshots(repository)) {
    bool all = true;
    for (const std::string& tag : tags) all = all && snapshot.has_tag(tag);
    if (all) return snapshot;
  }
  return std::nullopt;
}

std::string wal_name(const std::string& path) {
  std::string name = fs::path(path).filename().string();
  if (!repo::is_safe_name(name)) throw Error("not a WAL file name: " + path, ExitCode::usage);
  return name;
}

// Reads `path` to its end; throws Error naming it.
std::string read_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw_system_error("cannot open WAL file " + path, errno);
  std::string data;
  char buffer[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int saved = errno;
      ::close(fd);
      throw_system_error("cannot read WAL file " + path, saved);
    }
    if (n == 0) break;
    data.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return data;
}

}  // namespace

void add_wal_commands(CLI::App& app, Context& context) {
  auto stanza = std::make_shared<std::string>("main");
  auto* push = app.add_subcommand("wal-push", "archive a PostgreSQL WAL file (archive_command = 'obkeep wal-push %p')");
  auto push_path = std::make_shared<std::string>();
  push->add_option("path", *push_path, "the WAL file (%p)")->required();
  push->add_option("--stanza", *stanza, "name of the cluster's archive (default main)");
  push->callback([&context, stanza, push_path] {
    context.action = [&context, stanza, push_path] {
      std::string name = wal_name(*push_path);
      std::string data = read_file(*push_path);  // at most one WAL segment (16 MiB by default)
      auto repository = open_repository(context.global);
      repo::RepositoryLock lock(*repository, false);
      repository->load_index();
      if (auto existing = find_wal(*repository, *stanza, name)) {
        // PostgreSQL may push again after a crash: the same content is success, other
        // content must fail so the server keeps the file and an operator looks.
        db::RepositoryDumpSource archived(*repository, existing->tree);
        if (db::read_stream(archived, name) == data) return 0;
        throw Error("WAL file " + name + " is already archived in stanza " + *stanza + " with different content");
      }
      db::RepositoryDumpSink sink(*repository);
      db::write_stream(sink, name, data);
      repo::Snapshot snapshot;
      snapshot.time_ns = now_unix_nanos();
      snapshot.tree = sink.finish();
      repository->flush();
      snapshot.paths = {"wal:" + *stanza + "/" + name};
      snapshot.tags = wal_tags(*stanza, name);
      snapshot.hostname = hostname();
      snapshot.username = username();
      snapshot.program_version = std::string("obkeep ") + OBKEEP_VERSION;
      snapshot.summary = {{"bytes_processed", data.size()}};
      repo::save_snapshot(*repository, snapshot);
      return 0;
    };
  });

  auto* fetch = app.add_subcommand("wal-fetch", "restore an archived WAL file (restore_command = 'obkeep wal-fetch %f %p')");
  auto fetch_name = std::make_shared<std::string>(), fetch_destination = std::make_shared<std::string>();
  fetch->add_option("name", *fetch_name, "the WAL file name (%f)")->required();
  fetch->add_option("destination", *fetch_destination, "where to write it (%p)")->required();
  fetch->add_option("--stanza", *stanza, "name of the cluster's archive (default main)");
  fetch->callback([&context, stanza, fetch_name, fetch_destination] {
    context.action = [&context, stanza, fetch_name, fetch_destination] {
      std::string name = wal_name(*fetch_name);
      auto repository = open_repository(context.global);
      repo::RepositoryLock lock(*repository, false);
      repository->load_index();
      auto snapshot = find_wal(*repository, *stanza, name);
      // Not found is normal at the end of the archive: PostgreSQL asks for the next file.
      if (!snapshot) throw Error("WAL file " + name + " is not in the archive (stanza " + *stanza + ")");
      db::RepositoryDumpSource archived(*repository, snapshot->tree);
      std::string data = db::read_stream(archived, name);
      std::string temporary = *fetch_destination + ".obkeep-tmp";
      int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      if (fd < 0) throw_system_error("cannot write " + temporary, errno);
      bool ok = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()) && ::fsync(fd) == 0;
      ::close(fd);
      if (!ok || ::rename(temporary.c_str(), fetch_destination->c_str()) != 0)
        throw_system_error("cannot write " + *fetch_destination, errno);
      return 0;
    };
  });
}

}  // namespace obkeep::cli
