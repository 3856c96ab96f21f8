#include "db/postgres/wal_prefetch.hpp"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "db/postgres/wal_archive.hpp"
#include "db/postgres/wal_file.hpp"
#include "util/error.hpp"
#include "util/interrupt.hpp"
#include "util/parallel_tasks.hpp"
#include "util/process_lock.hpp"
#include "util/whole_file.hpp"

namespace obkeep::db {

namespace fs = std::filesystem;

namespace {

// The request "<name> <segment bytes>" as a parsed segment, when it is one.
struct Request {
  WalFile file;
  uint64_t segment_bytes = 0;
};
std::optional<Request> parse_request(const std::string& text) {
  std::istringstream in(text);
  std::string name;
  Request request;
  if (!(in >> name >> request.segment_bytes)) return std::nullopt;
  std::optional<WalFile> file = parse_wal_file(name, request.segment_bytes);
  if (!file || file->kind != WalFile::Kind::segment) return std::nullopt;
  request.file = *file;
  return request;
}

}  // namespace

WalPrefetch::WalPrefetch(const std::string& directory, const std::string& stanza)
    : stanza_(stanza), folder_(directory + "/" + stanza), files_(folder_ + "/prefetch") {
  std::error_code error;
  fs::create_directories(files_, error);
  if (error) throw Error("cannot create WAL prefetch folder " + files_ + ": " + error.message());
}

bool WalPrefetch::take(const std::string& name, const std::string& destination) {
  std::string path = file_path(name);
  if (::rename(path.c_str(), destination.c_str()) == 0) return true;
  if (errno == ENOENT) return false;
  if (errno != EXDEV) throw_system_error("cannot move prefetched WAL file " + path + " to " + destination, errno);
  // Another file system: copied, then dropped.
  write_file_durably(destination, read_whole_file(path, "prefetched WAL file"), "WAL file");
  ::unlink(path.c_str());
  return true;
}

void WalPrefetch::want(const std::string& name, uint64_t segment_bytes) {
  std::string text = name + " " + std::to_string(segment_bytes) + "\n";
  std::string path = folder_ + "/prefetch.want", temporary = path + ".obkeep-tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << text;
    if (!out.flush()) throw Error("cannot write " + temporary);
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) throw_system_error("cannot write " + path, errno);
  // Segment names of one size sort by position: what precedes the request is done with.
  for (const std::string& file : whole_files_in(files_, "WAL prefetch folder"))
    if (file.size() == name.size() && file.compare(8, 16, name, 8, 16) < 0) ::unlink(file_path(file).c_str());
}

std::optional<uint64_t> WalPrefetch::prefetched_size(const std::string& name) const {
  std::error_code error;
  uint64_t bytes = fs::file_size(file_path(name), error);
  if (error) return std::nullopt;
  return bytes;
}

bool WalPrefetch::ahead_of_request(const std::string& name) const {
  std::string request = this->request();
  size_t space = request.find(' ');
  return space == name.size() && name.compare(8, 16, request, 8, 16) > 0;
}

void WalPrefetch::discard_all() {
  for (const std::string& file : whole_files_in(files_, "WAL prefetch folder")) ::unlink(file_path(file).c_str());
}

std::string WalPrefetch::request() const {
  std::ifstream in(folder_ + "/prefetch.want");
  std::string line;
  std::getline(in, line);
  return line;
}

std::vector<std::string> WalPrefetch::missing_ahead(size_t count) const {
  std::vector<std::string> names;
  std::optional<Request> request = parse_request(this->request());
  if (!request) return names;
  for (size_t i = 1; i <= count; ++i) {
    std::string name = wal_segment_name(request->file.timeline, request->file.segment + i, request->segment_bytes);
    std::error_code ignored;
    if (!fs::exists(file_path(name), ignored)) names.push_back(name);
  }
  return names;
}

bool WalPrefetch::prefetcher_missing() const { return ProcessLock(lock_path()).held(); }

size_t run_wal_prefetcher(WalPrefetch& spool, repo::Repository& repository, const PrefetchOptions& options) {
  ProcessLock lock(spool.lock_path());
  if (!lock.held()) return 0;
  using Clock = std::chrono::steady_clock;
  size_t fetched = 0;
  auto idle_since = Clock::now();
  std::string archive_ended_at;  // the request for which the archive ran out
  while (!interrupted()) {
    std::string request = spool.request();
    std::vector<std::string> wanted = request == archive_ended_at ? std::vector<std::string>{} : spool.missing_ahead(options.ahead);
    if (wanted.empty()) {
      if (Clock::now() - idle_since > std::chrono::milliseconds(options.linger_ms)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    std::atomic<bool> ended{false};
    std::atomic<size_t> done{0};
    run_parallel(wanted.size(), options.parallel, [&](size_t i) {
      if (ended || !spool.ahead_of_request(wanted[i])) return;
      // Written under a temporary name and renamed: a wal-fetch sees it whole or not at all.
      if (fetch_wal_file(repository, spool.stanza(), wanted[i], spool.file_path(wanted[i])))
        ++done;
      else
        ended = true;
    });
    fetched += done;
    if (ended) archive_ended_at = request;
    idle_since = Clock::now();
  }
  return fetched;
}

}  // namespace obkeep::db
