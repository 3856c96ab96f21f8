// A throwaway mariadbd on a restored (prepared) data directory: for a drill to prove that a
// physical backup starts and answers, and for a point-in-time restore to replay the binlog
// into. Private: no TCP (a unix socket in its own /tmp directory), no grant checks, no
// binary log of its own; stopped when the object goes, or by the interrupt watchdog. Or on
// a new data directory it made itself, for a logical backup to be loaded into.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "db/engine.hpp"
#include "util/interrupt.hpp"

namespace obkeep::db {

class MariadbScratchServer {
 public:
  // mariadbd's path, or "" when this machine has none.
  static std::string binary();
  // Makes `data_directory` (new, or empty) a new server's files with mariadb-install-db:
  // the system tables only, for a logical backup to be loaded into.
  static void initialize(const std::string& data_directory);

  explicit MariadbScratchServer(std::string data_directory);
  ~MariadbScratchServer();
  MariadbScratchServer(const MariadbScratchServer&) = delete;
  MariadbScratchServer& operator=(const MariadbScratchServer&) = delete;

  // Starts it and waits until it answers; throws Error with the server log's last line
  // when it exits or after `timeout_s`. As root it runs as the `mysql` user.
  void start(int timeout_s);
  ConnectionInfo connection(const std::string& database) const;
  // SIGTERM (a clean shutdown), SIGKILL after 30 s. Idempotent.
  void stop();

 private:
  std::string last_log_line() const;

  std::string data_directory_, socket_directory_;
  pid_t pid_ = -1;
  std::unique_ptr<EmergencyCleanup> emergency_kill_;
};

}  // namespace obkeep::db
