// `obkeep binlog-archive`: streams a MariaDB/MySQL server's binary log into the repository
// as a replica would, cutting a piece every few seconds, until SIGTERM.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "db/engine.hpp"
#include "deploy/deployment.hpp"
#include "ops/log.hpp"
#include "repo/repository.hpp"

namespace obkeep::ops {

struct BinlogArchiverOptions {
  int piece_seconds = 5;     // a piece is cut this long after its first event: the RPO
  int confirm_seconds = 60;  // an idle server: an empty piece this often says the archive is current
  size_t max_piece_bytes = 64 << 20;
  uint32_t server_id = 0;    // 0: derived from the database id (each archiver needs its own)
  int heartbeat_seconds = 1;
  int stop_after_pieces = 0; // tests: return after this many pieces (0: until interrupted)
};

struct BinlogArchiverResult {
  uint64_t pieces = 0;
  uint64_t bytes = 0;
};

// Runs until interrupted (then saves what it holds and returns), or until a failure it
// cannot wait out: a lost connection is retried with growing pauses, each logged; an archive
// that cannot go on where it ended (the file purged, the server replaced) goes on from the
// server's oldest binlog and records the gap, which status and check report.
BinlogArchiverResult run_binlog_archiver(const std::function<std::unique_ptr<repo::Repository>()>& open_repository,
                                         const deploy::Database& database, const BinlogArchiverOptions& options,
                                         const Log& log);

}  // namespace obkeep::ops
