// Lock objects are sealed JSON under locks/. Taking a lock: write ours, then list the
// others; on conflict remove ours and fail, so two racing takers cannot both win.
#include "repo/lock.hpp"

#include <unistd.h>

#include <utility>

#include <nlohmann/json.hpp>

#include "repo/repository.hpp"
#include "util/error.hpp"
#include "util/host.hpp"
#include "util/json_decode.hpp"
#include "util/parallel_tasks.hpp"

namespace obkeep::repo {

using nlohmann::json;
using storage::FileType;

LockInfo decode_lock(ByteView text, const Id& id) {
  std::string what = "lock " + id.hex();
  json in = parse_json(text, what);
  LockInfo info;
  info.id = id;
  try {
    info.time_ns = parse_rfc3339(in.at("time").get<std::string>());
    info.exclusive = in.at("exclusive").get<bool>();
    info.hostname = in.value("hostname", "");
    info.username = in.value("username", "");
    info.pid = json_integer_or<int>(in, "pid", 0, what);
  } catch (const json::exception& e) {
    throw IntegrityError(what + " is malformed: " + e.what());
  } catch (const IntegrityError&) {
    throw;
  } catch (const Error& e) {  // a bad time
    throw IntegrityError(what + " is malformed: " + e.what());
  }
  return info;
}

std::vector<LockInfo> list_locks(Repository& repository, const std::optional<Id>& except) {
  std::vector<std::string> names;
  repository.backend().list(FileType::lock, [&](const std::string& name, uint64_t) {
    if (!except || name != except->hex()) names.push_back(name);
  });
  std::vector<std::optional<LockInfo>> read(names.size());
  run_parallel(names.size(), static_cast<unsigned>(2 * repository.backend().background_saves()), [&](size_t i) {
    try {
      read[i] = decode_lock(repository.load_object(FileType::lock, names[i]), Id::from_hex(names[i]));
    } catch (const Error&) {
      // Removed while we listed, a lock of another key, or damaged: not ours to judge.
    }
  });
  std::vector<LockInfo> locks;
  int64_t now = now_unix_nanos();
  std::string this_host = hostname();
  for (std::optional<LockInfo>& info : read) {
    if (!info) continue;
    if (info->hostname == this_host && !process_alive(info->pid)) {
      info->stale = info->holder_gone = true;
      info->stale_reason = "process " + std::to_string(info->pid) + " on this host is gone";
    } else if (info->time_ns < now - stale_lock_age_ns) {  // not now - time: a hostile time overflows
      info->stale = true;
      info->stale_reason = "not refreshed for over 30 minutes";
    }
    locks.push_back(std::move(*info));
  }
  return locks;
}

RepositoryLock::RepositoryLock(Repository& repository, bool exclusive, const std::function<void()>& alongside,
                               const std::function<void()>& early)
    : repository_(repository), exclusive_(exclusive) {
  std::exception_ptr alongside_failure;
  unsigned at_once = repository_.backend().background_saves() ? 2 : 1;
  run_parallel(early ? 2 : 1, at_once, [&](size_t i) {
    if (i == 0) {
      id_ = write_lock();
      // A process stopped by its watchdog leaves no lock behind either.
      emergency_removal_ = std::make_unique<EmergencyCleanup>([this] { remove_current(); });
      return;
    }
    try {
      early();
    } catch (...) {
      alongside_failure = std::current_exception();
    }
  });
  std::vector<LockInfo> others;
  try {
    run_parallel(alongside ? 2 : 1, at_once, [&](size_t i) {
      if (i == 0) {
        others = list_locks(repository_, id_);
        return;
      }
      try {
        if (!alongside_failure) alongside();
      } catch (...) {
        alongside_failure = std::current_exception();  // a conflicting lock is the better message
      }
    });
  } catch (...) {
    release();
    throw;
  }
  for (const LockInfo& other : others) {
    if (other.id == id_) continue;
    // A lock whose process died here (killed, or stopped where the lock could not be removed)
    // is cleared by the next taker; other stale locks are left to `obkeep unlock`.
    if (other.holder_gone) {
      try {
        repository_.backend().remove({FileType::lock, other.id.hex()});
      } catch (const Error&) {
      }
    }
    if (other.stale) continue;
    if (exclusive_ || other.exclusive) {
      release();
      throw Error("repository is already locked " + std::string(other.exclusive ? "exclusively " : "") + "by pid " +
                      std::to_string(other.pid) + " on " + other.hostname + " since " + format_rfc3339(other.time_ns) +
                      " (lock " + other.id.short_hex() + "; `obkeep unlock` removes stale locks)",
                  ExitCode::locked);
    }
  }
  if (alongside_failure) {
    release();
    std::rethrow_exception(alongside_failure);
  }
  refresher_ = std::thread([this] { refresh_loop(); });
}

RepositoryLock::~RepositoryLock() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (refresher_.joinable()) refresher_.join();
  release();
}

void RepositoryLock::release() {
  emergency_removal_.reset();
  remove_current();
}

Id RepositoryLock::current_id() {
  std::lock_guard lock(id_mutex_);
  return id_;
}

void RepositoryLock::remove_current() { remove_quietly(current_id()); }

void RepositoryLock::remove_quietly(const Id& id) {
  // Often run because of a signal: the removal must still reach a remote store.
  CleanupAfterSignal cleaning;
  try {
    repository_.backend().remove({FileType::lock, id.hex()});
  } catch (...) {
    // A lock we cannot remove goes stale on its own; never throw from a destructor.
  }
}

Id RepositoryLock::write_lock() {
  json lock = {{"time", format_rfc3339(now_unix_nanos())}, {"exclusive", exclusive_}, {"hostname", hostname()},
               {"username", username()},                  {"pid", static_cast<int>(getpid())}};
  Repository::SealedObject object = repository_.seal(FileType::lock, as_bytes(lock.dump()));
  try {
    repository_.save_sealed(FileType::lock, object);
  } catch (const Error& error) {
    // Interrupted after its request was sent, the save may still land (an SFTP lock is
    // written in place): no lock of ours may outlive the signal.
    if (error.code() == ExitCode::interrupted) remove_quietly(object.id);
    throw;
  }
  return object.id;
}

void RepositoryLock::refresh_loop() {
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, std::chrono::seconds(refresh_interval_s), [this] { return stopping_; })) {
    try {
      Id fresh = write_lock();
      Id old;
      {
        std::lock_guard id_lock(id_mutex_);
        old = std::exchange(id_, fresh);
      }
      repository_.backend().remove({FileType::lock, old.hex()});
    } catch (...) {
      // Retried at the next interval; the lock only goes stale after 30 minutes.
    }
  }
}

int remove_locks(Repository& repository, bool all) {
  int removed = 0;
  for (const LockInfo& lock : list_locks(repository)) {
    if (!all && !lock.stale) continue;
    repository.backend().remove({FileType::lock, lock.id.hex()});
    ++removed;
  }
  return removed;
}

}  // namespace obkeep::repo
