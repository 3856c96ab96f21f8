// The daemon's long-running children: one `obkeep binlog-archive` per MariaDB/MySQL
// database whose policy sets pitr = true. Each is started at once, started again after it
// ends (after 1 s, doubling to a minute while it keeps failing), and asked to stop with
// SIGTERM when the daemon stops (SIGKILL if it has not ended 10 s later).
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace obkeep::daemon {

class ArchiverSupervisor {
 public:
  struct Command {
    std::string name;               // for the log: the database
    std::vector<std::string> argv;  // argv[0] is a path
  };
  // `log(ok, fields)` writes one logfmt line.
  ArchiverSupervisor(std::vector<Command> commands, std::function<void(bool, const std::string&)> log);
  ~ArchiverSupervisor();
  ArchiverSupervisor(const ArchiverSupervisor&) = delete;
  ArchiverSupervisor& operator=(const ArchiverSupervisor&) = delete;

  // How many children run now (for tests and the log).
  size_t running() const;

 private:
  struct Child {
    Command command;
    pid_t pid = -1;
    int failures = 0;
    int64_t started_ns = 0, restart_at_ns = 0;
  };
  void supervise();
  void start(Child& child);
  void stop_all();

  std::vector<Child> children_;
  std::function<void(bool, const std::string&)> log_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace obkeep::daemon
