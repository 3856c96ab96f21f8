#include "daemon/place_reader.hpp"

#include <algorithm>

#include "util/error.hpp"

namespace obkeep::daemon {

repo::Repository& PlaceReader::repository(const std::optional<std::string>& site) {
  Cache& cache = caches_[site];
  if (!cache.repository) {
    cache.repository = site ? ops::open_site(ops::find_site(config_, *site), access_) : ops::open_primary(access_);
    try {
      cache.protection = cache.repository->backend().protection();
    } catch (const Error& error) {
      cache.protection = std::string("unknown (") + error.what() + ")";
    }
  }
  return *cache.repository;
}

ops::Place PlaceReader::read(Cache& cache, std::vector<repo::JournalEntry>* journal) {
  repo::Repository& repository = *cache.repository;
  std::vector<std::string> names, fresh;
  repository.backend().list(storage::FileType::snapshot, [&](const std::string& name, uint64_t) { names.push_back(name); });
  std::sort(names.begin(), names.end());
  for (const std::string& name : names)
    if (!cache.snapshots.count(name)) fresh.push_back(name);
  std::vector<Bytes> texts = repository.load_objects(storage::FileType::snapshot, fresh);
  for (size_t i = 0; i < fresh.size(); ++i)
    cache.snapshots.emplace(fresh[i], repo::decode_snapshot(texts[i], Id::from_hex(fresh[i])));
  std::erase_if(cache.snapshots, [&](const auto& entry) { return !std::binary_search(names.begin(), names.end(), entry.first); });
  ops::Place place;
  place.protection = cache.protection;
  for (const auto& [name, snapshot] : cache.snapshots) place.snapshots.push_back(snapshot);
  std::sort(place.snapshots.begin(), place.snapshots.end(), [](const repo::Snapshot& a, const repo::Snapshot& b) {
    return a.time_ns != b.time_ns ? a.time_ns < b.time_ns : a.id < b.id;
  });
  if (journal) {
    std::vector<repo::JournalEntry> entries = repo::read_journal(repository, &cache.journal);
    *journal = std::move(entries);
  }
  return place;
}

ops::Place PlaceReader::list(const std::optional<std::string>& site, std::vector<repo::JournalEntry>* journal) {
  try {
    repository(site);
    return read(caches_[site], journal);
  } catch (const Error& error) {
    caches_.erase(site);  // open it afresh next round
    if (!site || error.code() == ExitCode::interrupted) throw;
    ops::Place place;
    place.error = std::string("cannot read ") + error.what();
    return place;
  }
}

}  // namespace obkeep::daemon
