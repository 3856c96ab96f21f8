// SFTP version 3 (draft-ietf-secsh-filexfer-02), the version every OpenSSH server speaks:
// the messages obkeep sends and the replies it parses. Pure encoding, no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "util/bytes.hpp"
#include "util/error.hpp"

namespace obkeep::storage::sftp {

enum class Message : uint8_t {
  init = 1,
  version = 2,
  open = 3,
  close = 4,
  read = 5,
  write = 6,
  fstat = 8,
  opendir = 11,
  readdir = 12,
  remove = 13,
  mkdir = 14,
  stat = 17,
  rename = 18,
  status = 101,
  handle = 102,
  data = 103,
  name = 104,
  attrs = 105,
  extended = 200,
  extended_reply = 201,
};

// SSH_FX_* status codes.
enum class Status : uint32_t {
  ok = 0,
  eof = 1,
  no_such_file = 2,
  permission_denied = 3,
  failure = 4,
  bad_message = 5,
  no_connection = 6,
  connection_lost = 7,
  op_unsupported = 8,
};

std::string to_string(Status status);

// SSH_FXF_* flags of an open request.
constexpr uint32_t open_read = 0x01, open_write = 0x02, open_create = 0x08, open_truncate = 0x10, open_exclusive = 0x20;

// Every message is at most this long; OpenSSH's server refuses longer ones.
constexpr uint32_t max_message_length = 256 * 1024;

// A reply that breaks the protocol: the connection cannot be trusted after it.
class ProtocolError : public Error {
 public:
  using Error::Error;
};

struct Attributes {
  std::optional<uint64_t> size;
  std::optional<uint32_t> permissions;
  bool is_directory() const { return permissions && (*permissions & 0170000) == 0040000; }
};

// Builds one message: uint32 length, byte type, then the fields. A request carries its id
// right after the type (every message but init).
class MessageWriter {
 public:
  explicit MessageWriter(Message type);
  MessageWriter(Message type, uint32_t id);

  MessageWriter& u32(uint32_t value);
  MessageWriter& u64(uint64_t value);
  MessageWriter& string(std::string_view text);
  MessageWriter& string(ByteView data);
  // Attributes with no field set (what an open, mkdir or write needs).
  MessageWriter& no_attributes() { return u32(0); }
  MessageWriter& permissions(uint32_t mode) { return u32(0x4).u32(mode); }

  // The finished message; `tail_length` more bytes, sent after it, belong to the same
  // message (a write's data goes out from the caller's buffer, not copied in here).
  ByteView finish(uint32_t tail_length = 0);

 private:
  Bytes bytes_;
};

// Reads the fields of one message body (after the length).
class MessageReader {
 public:
  explicit MessageReader(ByteView body) : body_(body) {}

  uint8_t u8();
  uint32_t u32();
  uint64_t u64();
  ByteView bytes();
  std::string string() {
    ByteView view = bytes();
    return std::string(reinterpret_cast<const char*>(view.data()), view.size());
  }
  Attributes attributes();
  bool at_end() const { return position_ == body_.size(); }

 private:
  const uint8_t* take(size_t length);
  ByteView body_;
  size_t position_ = 0;
};

}  // namespace obkeep::storage::sftp
