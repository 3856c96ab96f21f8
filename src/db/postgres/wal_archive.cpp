#include "db/postgres/wal_archive.hpp"

#include <filesystem>
#include <mutex>
#include <optional>

#include "db/repository_dump_store.hpp"
#include "repo/archive_file.hpp"
#include "repo/snapshot.hpp"
#include "repo/tree.hpp"
#include "util/error.hpp"
#include "util/whole_file.hpp"

namespace obkeep::db {

namespace {

// Before archive entries, each WAL file was a snapshot with these tags, found by reading
// every snapshot: a cost that grew with the archive, paid now only for names without entry.
std::optional<Bytes> find_legacy_wal(repo::Repository& repository, const std::string& stanza, const std::string& name) {
  static std::mutex searching;  // files may be fetched in parallel (a prefetch); the index loads once
  std::lock_guard guard(searching);
  const std::vector<std::string> tags = {"set=wal", "stanza=" + stanza, "wal=" + name};
  for (const repo::Snapshot& snapshot : repo::list_snapshots(repository)) {
    bool all = true;
    for (const std::string& tag : tags) all = all && snapshot.has_tag(tag);
    if (!all) continue;
    if (repository.loaded_index_files().empty()) repository.load_index();
    RepositoryDumpSource archived(repository, snapshot.tree);
    std::string data = read_stream(archived, name);
    return Bytes(data.begin(), data.end());
  }
  return std::nullopt;
}

}  // namespace

repo::ArchiveKey wal_key(const std::string& stanza, const std::string& file) { return {"wal", stanza, file}; }

std::string wal_file_name(const std::string& path) {
  std::string name = std::filesystem::path(path).filename().string();
  if (!repo::is_safe_name(name)) throw Error("not a WAL file name: " + path, ExitCode::usage);
  return name;
}

void push_wal_file(repo::Repository& repository, const std::string& stanza, const std::string& path) {
  std::string name = wal_file_name(path);
  Bytes data = read_whole_file(path, "WAL file");  // at most one WAL segment (16 MiB by default)
  repo::ArchiveWriter writer(repository);
  if (writer.add(wal_key(stanza, name), data) == repo::ArchiveWriter::Added::stored) writer.commit();
}

bool fetch_wal_file(repo::Repository& repository, const std::string& stanza, const std::string& name,
                    const std::string& destination) {
  std::optional<Bytes> data;
  if (auto entry = repo::load_archive_entry(repository, wal_key(stanza, name)))
    data = repo::read_archived_file(repository, *entry);
  else
    data = find_legacy_wal(repository, stanza, name);
  if (!data) return false;
  write_file_durably(destination, *data, "WAL file");
  return true;
}

}  // namespace obkeep::db
