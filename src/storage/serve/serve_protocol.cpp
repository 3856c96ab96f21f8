// Encoding and decoding obkeep serve frames.
#include "storage/serve/serve_protocol.hpp"

#include "storage/object_layout.hpp"

namespace obkeep::storage::serve {

std::string to_string(Status status) {
  switch (status) {
    case Status::ok: return "ok";
    case Status::not_found: return "no such object";
    case Status::short_object: return "short object";
    case Status::refused: return "refused (append-only)";
    case Status::exists: return "already exists";
    case Status::bad_request: return "bad request";
    case Status::failed: return "failed";
  }
  return "status " + std::to_string(static_cast<int>(status));
}

std::string to_string(Kind kind) {
  switch (kind) {
    case Kind::hello: return "hello";
    case Kind::create: return "create";
    case Kind::save_begin: return "save";
    case Kind::save_data: return "save data";
    case Kind::load: return "load";
    case Kind::stat: return "stat";
    case Kind::remove: return "remove";
    case Kind::list: return "list";
    case Kind::remove_temporaries: return "remove temporaries";
    case Kind::reply: return "reply";
  }
  return "kind " + std::to_string(static_cast<int>(kind));
}

FrameWriter::FrameWriter(Kind kind, uint32_t id) {
  bytes_.reserve(64);
  bytes_.resize(4);  // the length, filled by finish()
  u8(static_cast<uint8_t>(kind));
  u32(id);
}

FrameWriter& FrameWriter::u8(uint8_t value) {
  bytes_.push_back(value);
  return *this;
}

FrameWriter& FrameWriter::u32(uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) bytes_.push_back(static_cast<uint8_t>(value >> shift));
  return *this;
}

FrameWriter& FrameWriter::u64(uint64_t value) {
  u32(static_cast<uint32_t>(value >> 32));
  return u32(static_cast<uint32_t>(value));
}

FrameWriter& FrameWriter::string(std::string_view text) { return bytes(as_bytes(text)); }

FrameWriter& FrameWriter::bytes(ByteView data) {
  u32(static_cast<uint32_t>(data.size()));
  bytes_.insert(bytes_.end(), data.begin(), data.end());
  return *this;
}

FrameWriter& FrameWriter::handle(const Handle& handle) {
  u8(static_cast<uint8_t>(handle.type));
  return string(handle.name);
}

ByteView FrameWriter::finish(uint32_t tail_length) {
  uint32_t length = static_cast<uint32_t>(bytes_.size() - 4) + tail_length;
  for (int i = 0; i < 4; ++i) bytes_[i] = static_cast<uint8_t>(length >> (24 - 8 * i));
  return bytes_;
}

const uint8_t* FrameReader::take(size_t length) {
  if (frame_.size() - position_ < length) throw ProtocolError("malformed frame (truncated field)");
  const uint8_t* start = frame_.data() + position_;
  position_ += length;
  return start;
}

uint8_t FrameReader::u8() { return *take(1); }

uint32_t FrameReader::u32() {
  const uint8_t* p = take(4);
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | uint32_t{p[3]};
}

uint64_t FrameReader::u64() {
  uint64_t high = u32();
  return high << 32 | u32();
}

ByteView FrameReader::bytes() {
  uint32_t length = u32();
  return ByteView(take(length), length);
}

Handle FrameReader::handle() {
  uint8_t type = u8();
  if (type > static_cast<uint8_t>(FileType::archive)) throw ProtocolError("malformed frame (object type " + std::to_string(type) + ")");
  ByteView name = bytes();
  if (name.size() > 64) throw ProtocolError("malformed frame (object name of " + std::to_string(name.size()) + " bytes)");
  Handle handle{static_cast<FileType>(type), obkeep::to_string(name)};
  // Names are checked before they come near a path: no "..", no "/", nothing but hex.
  if (!valid_object_name(handle)) throw ProtocolError("malformed frame (invalid " + storage::to_string(handle.type) + " name)");
  return handle;
}

Status FrameReader::status() {
  uint8_t value = u8();
  if (value > static_cast<uint8_t>(Status::failed)) throw ProtocolError("malformed frame (status " + std::to_string(value) + ")");
  return static_cast<Status>(value);
}

ByteView FrameReader::rest() {
  ByteView remaining = frame_.subspan(position_);
  position_ = frame_.size();
  return remaining;
}

void FrameReader::expect_end() const {
  if (!at_end()) throw ProtocolError("malformed frame (" + std::to_string(frame_.size() - position_) + " trailing bytes)");
}

uint32_t frame_length(const uint8_t header[4], const std::string& peer) {
  uint32_t length = uint32_t{header[0]} << 24 | uint32_t{header[1]} << 16 | uint32_t{header[2]} << 8 | uint32_t{header[3]};
  if (length < 5) throw ProtocolError("malformed frame from " + peer + " (" + std::to_string(length) + " bytes)");
  if (length > max_frame_length)
    throw ProtocolError("frame of " + std::to_string(length) + " bytes from " + peer + ", over the limit of " +
                        std::to_string(max_frame_length));
  return length;
}

}  // namespace obkeep::storage::serve
