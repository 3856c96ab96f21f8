#include "daemon/job.hpp"

namespace obkeep::daemon {

const char* to_string(JobKind kind) {
  switch (kind) {
    case JobKind::backup: return "backup";
    case JobKind::wal: return "wal";
    case JobKind::copy: return "copy";
    case JobKind::prune: return "prune";
    case JobKind::verify: return "verify";
    case JobKind::drill: return "drill";
  }
  return "backup";
}

std::string Job::name() const {
  std::string place = target.empty() ? "primary" : target;
  return std::string(to_string(kind)) + " " + place;
}

}  // namespace obkeep::daemon
