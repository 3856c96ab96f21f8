// Recovery-point objectives: for each set of a deployment's policy, each home or database,
// and each place a copy must be (the primary repository and the policy's DR sites), how old
// the newest recovery point is against the RPO. `obkeep status` reports these.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "deploy/config.hpp"
#include "deploy/deployment.hpp"

namespace obkeep::ops {

enum class Verdict { met, at_risk, violated };
const char* to_string(Verdict verdict);

struct Objective {
  std::string set;                  // databases, artifacts, instance
  std::string home;                 // artifacts and instance
  std::string database;             // databases: the database id (snapshots are tagged database=<id>)
  std::string database_name;        // databases: the first datasource name, for people
  std::optional<std::string> site;  // a DR site's name; nullopt for the primary repository
  int64_t rpo_s = 0;
  std::optional<int64_t> rto_s;
  std::optional<int64_t> frequency_s;

  // Filled by evaluate():
  std::optional<int64_t> newest_ns;  // time of the newest recovery point
  std::string snapshot;              // its id
  std::optional<int64_t> age_s;
  Verdict verdict = Verdict::violated;
  std::string reason;

  // The tags that find this objective's snapshots.
  std::vector<std::string> tags() const;
};

// One objective per (set with an rpo, home or database, place). A set's places are the
// primary and every DR site its policy names in `sites` or whose `sets` hold it.
// Where a set's recovery points are kept: the primary (nullopt), and each DR site the
// policy names or that holds the set.
std::vector<std::optional<std::string>> places_of(const deploy::Config& config, const std::string& set,
                                                  const deploy::Policy& policy);

std::vector<Objective> plan_objectives(const deploy::Config& config, const deploy::Discovery& discovery);

// The verdict at `now_ns` for a newest recovery point (none: violated):
//   violated when older than the RPO;
//   at risk when older than the RPO less one backup interval (`frequency`, or a quarter of
//   the RPO without one): a single late or failed backup would then breach it;
//   met otherwise.
void evaluate(Objective& objective, std::optional<int64_t> newest_ns, const std::string& snapshot, int64_t now_ns);

}  // namespace obkeep::ops
