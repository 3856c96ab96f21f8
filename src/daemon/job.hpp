// The daemon's jobs: what it runs to keep a policy. A job is a kind and what it acts on.
#pragma once

#include <cstdint>
#include <string>

namespace obkeep::daemon {

enum class JobKind { backup, wal, copy, prune, verify, drill };
const char* to_string(JobKind kind);

struct Job {
  JobKind kind = JobKind::backup;
  // backup: the set (databases, artifacts, instance); wal: a PostgreSQL database's id;
  // copy: the DR site; prune, verify and drill: the DR site, or "" for the primary.
  std::string target;

  // "backup databases", "copy dr1", "verify primary".
  std::string name() const;
  auto operator<=>(const Job&) const = default;
};

// What the config says of a job: how often it is due.
struct JobPlan {
  Job job;
  int64_t interval_s = 0;
};

}  // namespace obkeep::daemon
