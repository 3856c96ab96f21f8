// The Keeper of a real deployment: its jobs come from the config's policy, what it
// observes from the primary repository, the DR sites and the journal, and its jobs run
// through the ops layer (the same code as the commands).
#pragma once

#include "daemon/keeper.hpp"
#include "daemon/place_reader.hpp"
#include "deploy/config.hpp"
#include "deploy/deployment.hpp"
#include "ops/log.hpp"
#include "ops/repository_access.hpp"

namespace obkeep::daemon {

class DeploymentKeeper : public Keeper {
 public:
  DeploymentKeeper(const deploy::Config& config, const deploy::Discovery& discovery, ops::RepositoryAccess access,
                   ops::Log log);

  std::vector<JobPlan> plan() override;
  Observation observe(int64_t now_ns) override;
  JobOutcome run(const Job& job) override;

 private:
  JobOutcome backup(const std::string& set);
  JobOutcome wal(const std::string& database_id);
  JobOutcome copy(const std::string& site);
  JobOutcome prune(const std::string& place);
  JobOutcome verify(const std::string& place);
  JobOutcome drill(const std::string& place);
  // Into how many parts the packs are split so that one verification a `verify_every`
  // reads every pack within `verify_period`.
  uint32_t verify_parts() const;
  // Appends a journal entry to the primary; a failure to is logged, not fatal to the job.
  void record(const std::string& kind, const std::string& place, const nlohmann::json& details);

  const deploy::Config& config_;
  const deploy::Discovery& discovery_;
  ops::RepositoryAccess access_;
  ops::Log log_;
  PlaceReader places_;
  std::map<std::string, uint32_t> next_verify_part_;  // per place ("" the primary), from the journal
};

}  // namespace obkeep::daemon
