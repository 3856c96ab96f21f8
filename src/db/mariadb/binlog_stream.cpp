#include "db/mariadb/binlog_stream.hpp"

#include <algorithm>
#include <cstring>

#include "util/error.hpp"

namespace obkeep::db {

const char binlog_magic[4] = {'\xfe', 'b', 'i', 'n'};

namespace {

constexpr uint16_t artificial_event_flag = 0x20;  // LOG_EVENT_ARTIFICIAL_F: made up by the server, not in the file

}  // namespace

BinlogStream::BinlogStream(const ConnectionInfo& server, const std::string& file, uint64_t position,
                           uint32_t server_id, int heartbeat_seconds)
    : connection_(mysql_init(nullptr)),
      where_("mysql://" + server.host + ":" + std::to_string(server.port)),
      file_(file),
      heartbeat_seconds_(std::max(1, heartbeat_seconds)) {
  if (!connection_) throw std::bad_alloc();
  unsigned int connect_timeout = 10, read_timeout = static_cast<unsigned>(heartbeat_seconds_) * 5 + 5;
  mysql_options(connection_, MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout);
  mysql_options(connection_, MYSQL_OPT_READ_TIMEOUT, &read_timeout);
  if (!mysql_real_connect(connection_, server.host.c_str(), server.user.c_str(), server.password.c_str(), nullptr,
                          static_cast<unsigned>(server.port), nullptr, 0))
    fail("cannot connect as " + server.user);
  // As a MariaDB replica that understands GTID events (else the server rewrites them), with
  // the server's own checksums kept in each event, and a heartbeat when nothing happens.
  for (std::string sql : {std::string("SET @mariadb_slave_capability = 4"),
                          std::string("SET @master_binlog_checksum = @@global.binlog_checksum"),
                          "SET @master_heartbeat_period = " + std::to_string(uint64_t(heartbeat_seconds_) * 1000000000)})
    if (mysql_real_query(connection_, sql.data(), sql.size()) != 0) fail("cannot prepare the binlog stream");
  {
    const char* sql = "SELECT @@global.binlog_checksum";
    if (mysql_real_query(connection_, sql, std::strlen(sql)) != 0) fail("cannot read binlog_checksum");
    MYSQL_RES* result = mysql_store_result(connection_);
    MYSQL_ROW row = result ? mysql_fetch_row(result) : nullptr;
    checksums_ = row && row[0] && std::string(row[0]) != "NONE";
    if (result) mysql_free_result(result);
  }
  replication_ = mariadb_rpl_init(connection_);
  if (!replication_) fail("cannot start the binlog stream");
  mariadb_rpl_optionsv(replication_, MARIADB_RPL_FILENAME, file.c_str(), file.size());
  mariadb_rpl_optionsv(replication_, MARIADB_RPL_START, static_cast<unsigned long>(position));
  mariadb_rpl_optionsv(replication_, MARIADB_RPL_SERVER_ID, server_id);
  // Without this flag the server leaves out the Annotate_rows events, which are in the file.
  mariadb_rpl_optionsv(replication_, MARIADB_RPL_FLAGS, static_cast<unsigned int>(MARIADB_RPL_BINLOG_SEND_ANNOTATE_ROWS));
  if (mariadb_rpl_open(replication_) != 0) fail("cannot stream binlog " + file + " from position " + std::to_string(position));
}

BinlogStream::~BinlogStream() {
  if (event_) mariadb_free_rpl_event(event_);
  if (replication_) mariadb_rpl_close(replication_);
  if (connection_) mysql_close(connection_);
}

void BinlogStream::fail(const std::string& what) {
  std::string message = mysql_error(connection_);
  throw Error(where_ + ": " + what + ": " + (message.empty() ? "the server closed the binlog stream" : message));
}

BinlogEvent BinlogStream::next() {
  for (;;) {
    event_ = mariadb_rpl_fetch(replication_, event_);
    if (!event_) fail("binlog stream of " + file_ + " broke");
    bool artificial = event_->flags & artificial_event_flag;
    // The rotation's body: the position (8 bytes) and the file name, then the checksum.
    // Read from the raw event: libmariadb's parsed name is cut wrongly with checksums on.
    auto rotation_target = [&] {
      constexpr size_t header = 19, position = 8;
      size_t trailer = checksums_ ? 4 : 0;
      if (event_->event_length < header + position + trailer + 1 || event_->raw_data_size < event_->raw_data_ofs + event_->event_length)
        fail("a malformed rotate event after " + file_);
      const char* name = reinterpret_cast<const char*>(event_->raw_data + event_->raw_data_ofs + header + position);
      return std::string(name, event_->event_length - header - position - trailer);
    };
    if (event_->event_type == HEARTBEAT_LOG_EVENT) return {BinlogEvent::Kind::heartbeat, file_, event_->next_event_pos, 0, 0, {}, {}};
    if (event_->event_type == ROTATE_EVENT && artificial) {
      // The first event of every stream: the events that follow belong to this file.
      file_ = rotation_target();
      return {BinlogEvent::Kind::rotate, file_, 0, 0, 0, {}, {}};
    }
    // Starting past a file's beginning, the server first sends the file's format
    // description again, at position 0 (not in the file there): it is skipped.
    if (event_->next_event_pos == 0 || artificial) continue;
    if (event_->raw_data_size < event_->raw_data_ofs + event_->event_length || event_->next_event_pos < event_->event_length)
      fail("a truncated binlog event in " + file_);
    BinlogEvent out;
    out.kind = BinlogEvent::Kind::data;
    out.file = file_;
    out.timestamp = event_->timestamp;
    out.type = static_cast<uint8_t>(event_->event_type);
    out.position = event_->next_event_pos - event_->event_length;
    const uint8_t* begin = event_->raw_data + event_->raw_data_ofs;
    out.bytes.assign(begin, begin + event_->event_length);
    if (event_->event_type == ROTATE_EVENT) {
      // A real rotation ends its file (it is that file's last event); the log goes on in the next.
      out.next_file = rotation_target();
      file_ = out.next_file;
    }
    return out;
  }
}

}  // namespace obkeep::db
