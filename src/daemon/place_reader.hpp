// Reads the snapshots (and the primary's journal) of each place a daemon watches, round
// after round, cheaply: repositories stay open (no key derivation per round) and only the
// objects not seen before are fetched, since stored objects never change. A place that
// fails is opened afresh next time.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "deploy/config.hpp"
#include "ops/repository_access.hpp"
#include "ops/status.hpp"
#include "repo/journal.hpp"
#include "repo/repository.hpp"
#include "repo/snapshot.hpp"

namespace obkeep::daemon {

class PlaceReader {
 public:
  PlaceReader(const deploy::Config& config, const ops::RepositoryAccess& access) : config_(config), access_(access) {}

  // The primary (nullopt): throws Error when it cannot be read; with `journal`, its
  // journal too. A DR site: its error is in the Place.
  ops::Place list(const std::optional<std::string>& site, std::vector<repo::JournalEntry>* journal = nullptr);

  // The open repository of a place (opened when needed). Throws Error.
  repo::Repository& repository(const std::optional<std::string>& site);

 private:
  struct Cache {
    std::unique_ptr<repo::Repository> repository;
    std::map<std::string, repo::Snapshot> snapshots;      // by name
    std::map<std::string, repo::JournalEntry> journal;    // by name
    std::string protection;
  };
  ops::Place read(Cache& cache, std::vector<repo::JournalEntry>* journal);

  const deploy::Config& config_;
  const ops::RepositoryAccess& access_;
  std::map<std::optional<std::string>, Cache> caches_;
};

}  // namespace obkeep::daemon
