// MariaDB global transaction ids: "domain-server-sequence" ("0-1-105"), a position (the
// last GTID of each replication domain, "0-1-105,1-2-7"), and reading one from the GTID
// event that begins each transaction in the binary log.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "util/bytes.hpp"

namespace obkeep::db {

struct Gtid {
  uint32_t domain = 0;
  uint32_t server = 0;
  uint64_t sequence = 0;
  std::string to_string() const;
};

// nullopt when `text` is not "D-S-N" in decimal.
std::optional<Gtid> parse_gtid(const std::string& text);

// Per domain, the last GTID; empty for "". nullopt when the text is no position.
using GtidPosition = std::map<uint32_t, Gtid>;
std::optional<GtidPosition> parse_gtid_position(const std::string& text);
std::string to_string(const GtidPosition& position);

inline constexpr uint8_t gtid_event_type = 162;  // MariaDB's GTID_EVENT

// The GTID a binlog event (as stored: 19-byte header, then its body) begins, when it is a
// GTID event; nullopt for any other event or one too short to be one.
std::optional<Gtid> gtid_of_event(ByteView event);

}  // namespace obkeep::db
