// Encoding and decoding SFTP v3 messages.
#include "storage/sftp/sftp_protocol.hpp"

#include <cstring>

namespace obkeep::storage::sftp {

std::string to_string(Status status) {
  switch (status) {
    case Status::ok: return "ok";
    case Status::eof: return "end of file";
    case Status::no_such_file: return "no such file";
    case Status::permission_denied: return "permission denied";
    case Status::failure: return "failure";
    case Status::bad_message: return "bad message";
    case Status::no_connection: return "no connection";
    case Status::connection_lost: return "connection lost";
    case Status::op_unsupported: return "operation unsupported";
  }
  return "sftp status " + std::to_string(static_cast<uint32_t>(status));
}

MessageWriter::MessageWriter(Message type) {
  bytes_.reserve(64);
  bytes_.resize(4);  // the length, filled by finish()
  bytes_.push_back(static_cast<uint8_t>(type));
}

MessageWriter::MessageWriter(Message type, uint32_t id) : MessageWriter(type) { u32(id); }

MessageWriter& MessageWriter::u32(uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) bytes_.push_back(static_cast<uint8_t>(value >> shift));
  return *this;
}

MessageWriter& MessageWriter::u64(uint64_t value) {
  u32(static_cast<uint32_t>(value >> 32));
  return u32(static_cast<uint32_t>(value));
}

MessageWriter& MessageWriter::string(std::string_view text) {
  return string(ByteView(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

MessageWriter& MessageWriter::string(ByteView data) {
  u32(static_cast<uint32_t>(data.size()));
  bytes_.insert(bytes_.end(), data.begin(), data.end());
  return *this;
}

ByteView MessageWriter::finish(uint32_t tail_length) {
  uint32_t length = static_cast<uint32_t>(bytes_.size() - 4) + tail_length;
  for (int i = 0; i < 4; ++i) bytes_[i] = static_cast<uint8_t>(length >> (24 - 8 * i));
  return bytes_;
}

const uint8_t* MessageReader::take(size_t length) {
  if (body_.size() - position_ < length) throw ProtocolError("malformed SFTP reply (truncated field)");
  const uint8_t* start = body_.data() + position_;
  position_ += length;
  return start;
}

uint8_t MessageReader::u8() { return *take(1); }

uint32_t MessageReader::u32() {
  const uint8_t* p = take(4);
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | uint32_t{p[3]};
}

uint64_t MessageReader::u64() {
  uint64_t high = u32();
  return high << 32 | u32();
}

ByteView MessageReader::bytes() {
  uint32_t length = u32();
  return ByteView(take(length), length);
}

Attributes MessageReader::attributes() {
  Attributes attributes;
  uint32_t flags = u32();
  if (flags & 0x1) attributes.size = u64();
  if (flags & 0x2) take(8);  // uid, gid
  if (flags & 0x4) attributes.permissions = u32();
  if (flags & 0x8) take(8);  // atime, mtime
  if (flags & 0x80000000) {
    uint32_t count = u32();
    for (uint32_t i = 0; i < count; ++i) {
      bytes();  // type
      bytes();  // data
    }
  }
  return attributes;
}

}  // namespace obkeep::storage::sftp
