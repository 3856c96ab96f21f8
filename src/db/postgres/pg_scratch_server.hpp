// A throwaway PostgreSQL server on a restored data directory: what a drill starts to prove
// that a physical (base backup) recovery gives a cluster that runs and answers, and what a
// logical backup is loaded into when it is restored as a new cluster's files. It runs
// with a configuration of its own (the source's postgresql.conf may live in /etc, or load
// libraries this machine lacks), listens only on a unix socket in a private directory,
// trusts local connections, and is stopped when the object goes.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "db/engine.hpp"
#include "util/interrupt.hpp"

namespace obkeep::db {

class PgScratchServer {
 public:
  // The server binaries of a "15.4"-style version's major release, or "" when this machine
  // has none (/usr/lib/postgresql/<major>/bin/postgres).
  static std::string binaries_for(const std::string& server_version);

  // Makes `data_directory` (new, or empty) a new cluster with initdb from `bin_directory`:
  // superuser postgres, UTF8 without a locale, peer authentication on the socket and
  // scram-sha-256 over TCP. As root it runs as (and gives the directory to) `postgres`.
  static void initialize(const std::string& data_directory, const std::string& bin_directory);

  // Does not start it. As root the server runs as the `postgres` user, who is given the
  // data directory; otherwise as the caller.
  PgScratchServer(std::string data_directory, std::string bin_directory);
  ~PgScratchServer();
  PgScratchServer(const PgScratchServer&) = delete;
  PgScratchServer& operator=(const PgScratchServer&) = delete;

  // Starts the server and waits until it accepts connections (crash recovery from the
  // backup's WAL comes first). Throws Error naming the server log's last line when it
  // exits, and after `timeout_s`; an interruption stops it.
  void start(int timeout_s);
  // How to reach it as `user` (the socket directory as the host; no password).
  ConnectionInfo connection(const std::string& database, const std::string& user) const;
  // A fast shutdown, then harder ones if it does not end. Idempotent.
  void stop();

 private:
  std::string last_log_line() const;

  std::string data_directory_, bin_directory_, socket_directory_;
  pid_t pid_ = -1;
  std::unique_ptr<EmergencyCleanup> emergency_kill_;
};

}  // namespace obkeep::db
