#include "db/postgres/wal_spool.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>
#include <vector>

#include "db/postgres/wal_archive.hpp"
#include "repo/archive_file.hpp"
#include "repo/lock.hpp"
#include "util/error.hpp"
#include "util/interrupt.hpp"
#include "util/process_lock.hpp"
#include "util/whole_file.hpp"

namespace obkeep::db {

namespace fs = std::filesystem;

namespace {

void make_folder(const std::string& path) {
  std::error_code error;
  fs::create_directories(path, error);
  if (error) throw Error("cannot create WAL spool folder " + path + ": " + error.message());
}

void record_failure(const WalSpool& spool, const std::string& message) {
  std::string line = message + "\n";
  write_file_durably(spool.folder() + "/failure", as_bytes(line), "WAL spool status");
  std::cerr << "obkeep: " << message << "\n";
}

void clear_failure(const WalSpool& spool) { ::unlink((spool.folder() + "/failure").c_str()); }

// Pushes `names` as one batch. Returns the failures, "<name>: <message>"; the files that
// were stored (or were archived already) are removed from the queue.
std::vector<std::string> push_batch(WalSpool& spool, repo::Repository& repository, const std::string& queue,
                                    const std::vector<std::string>& names) {
  std::vector<std::string> failures, done;
  {
    repo::RepositoryLock lock(repository, false);
    repo::ArchiveWriter writer(repository);
    for (const std::string& name : names) {
      throw_if_interrupted();
      try {
        writer.add(wal_key(spool.stanza(), name), read_whole_file(queue + "/" + name, "spooled WAL file"));
        done.push_back(name);
      } catch (const Error& e) {
        if (e.code() == ExitCode::interrupted) throw;
        failures.push_back(e.what());
      }
    }
    writer.commit();
  }
  // Only after the entries are stored: a crash before this pushes the files again, which
  // finds them archived with the same content.
  for (const std::string& name : done) ::unlink((queue + "/" + name).c_str());
  return failures;
}

}  // namespace

WalSpool::WalSpool(const std::string& directory, const std::string& stanza)
    : stanza_(stanza), folder_(directory + "/" + stanza), queue_(folder_ + "/queue") {
  make_folder(queue_);
}

void WalSpool::add(const std::string& path) {
  std::string name = wal_file_name(path);
  write_file_durably(queue_ + "/" + name, read_whole_file(path, "WAL file"), "spooled WAL file");
}

std::optional<std::string> WalSpool::failure() const {
  std::ifstream in(folder_ + "/failure");
  if (!in) return std::nullopt;
  std::string line;
  std::getline(in, line);
  return line.empty() ? "the last asynchronous WAL push failed (see " + log_path() + ")" : line;
}

bool WalSpool::drainer_missing() const { return ProcessLock(folder_ + "/drain.lock").held(); }

bool WalSpool::has_queued_files() const { return !whole_files_in(queue_, "WAL spool").empty(); }

bool drain_wal_spool(WalSpool& spool, const std::function<std::unique_ptr<repo::Repository>()>& open,
                     const DrainOptions& options) {
  std::unique_ptr<repo::Repository> repository;
  for (;;) {
    {
      ProcessLock lock(spool.folder() + "/drain.lock");
      if (!lock.held()) return true;  // another drainer has the queue
      auto idle_since = std::chrono::steady_clock::now();
      for (;;) {
        throw_if_interrupted();
        std::vector<std::string> names = whole_files_in(spool.queue(), "WAL spool");
        if (names.empty()) {
          if (std::chrono::steady_clock::now() - idle_since > std::chrono::milliseconds(options.linger_ms)) break;
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
          continue;
        }
        if (names.size() > options.batch_files) names.resize(options.batch_files);
        std::vector<std::string> failures;
        try {
          if (!repository) repository = open();
          failures = push_batch(spool, *repository, spool.queue(), names);
        } catch (const Error& e) {
          if (e.code() == ExitCode::interrupted) throw;
          failures = {e.what()};
        }
        if (!failures.empty()) {
          // The files stay queued; the next wal-push reports this and starts a new drainer.
          std::ostringstream message;
          message << "asynchronous WAL push of stanza " << spool.stanza() << " failed: " << failures.front();
          if (failures.size() > 1) message << " (and " << failures.size() - 1 << " more)";
          record_failure(spool, message.str());
          return false;
        }
        clear_failure(spool);
        idle_since = std::chrono::steady_clock::now();
      }
    }
    // The lock is released: a file spooled while a wal-push saw it still held is seen
    // here (the push renames its file before it looks at the lock).
    if (!spool.has_queued_files()) return true;
  }
}

}  // namespace obkeep::db
