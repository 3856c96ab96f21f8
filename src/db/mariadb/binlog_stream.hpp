// A replica's view of a MariaDB/MySQL server's binary log: the events from a file and
// position onwards, as the server sends them to a replica (COM_BINLOG_DUMP through
// libmariadb's replication API), with their checksums, so that written one after the other
// behind the 4-byte magic they form a binlog file that mariadb-binlog reads.
#pragma once

#include <mysql.h>
#include <mariadb_rpl.h>

#include <cstdint>
#include <string>

#include "db/engine.hpp"
#include "util/bytes.hpp"

namespace obkeep::db {

inline constexpr uint64_t binlog_header_size = 4;  // the magic "\xfe" "bin" every binlog file begins with
extern const char binlog_magic[4];

struct BinlogEvent {
  enum class Kind {
    data,       // an event of `file` at [position, position + bytes.size())
    rotate,     // the stream starts in `file`
    heartbeat,  // nothing new: the stream is caught up with the server
  };
  Kind kind = Kind::heartbeat;
  std::string file;
  uint64_t position = 0;
  uint32_t timestamp = 0;  // the event's time on the server (seconds), for data events
  uint8_t type = 0;
  Bytes bytes;  // the whole event as stored in the binlog, checksum included
  std::string next_file;  // a rotation (the last event of `file`): where the log goes on
};

class BinlogStream {
 public:
  // Starts streaming `file` at `position` (4: its first event). `server_id` must differ
  // from every real replica's. The server sends a heartbeat every `heartbeat_seconds` when
  // it has nothing new, so next() returns at least that often; a link silent for several
  // heartbeats is broken, and next() throws.
  BinlogStream(const ConnectionInfo& server, const std::string& file, uint64_t position, uint32_t server_id,
               int heartbeat_seconds = 1);
  ~BinlogStream();
  BinlogStream(const BinlogStream&) = delete;
  BinlogStream& operator=(const BinlogStream&) = delete;

  // The next event; throws Error naming the server when the stream breaks.
  BinlogEvent next();

 private:
  [[noreturn]] void fail(const std::string& what);

  MYSQL* connection_ = nullptr;
  MARIADB_RPL* replication_ = nullptr;
  MARIADB_RPL_EVENT* event_ = nullptr;
  std::string where_;
  std::string file_;
  int heartbeat_seconds_;
  bool checksums_ = false;  // every event ends with a CRC32 (binlog_checksum = CRC32)
};

}  // namespace obkeep::db
