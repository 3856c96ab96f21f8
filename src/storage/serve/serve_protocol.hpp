// The obkeep serve protocol (docs/serve-protocol.md): frames, request kinds, status codes,
// and the byte-level writer and reader both ends use. Pure encoding, no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "storage/backend.hpp"
#include "util/bytes.hpp"
#include "util/error.hpp"

namespace obkeep::storage::serve {

constexpr uint32_t protocol_version = 1;
constexpr std::string_view magic = "obkeep-serve";

// The longest frame either end accepts (after its 4-byte length): a 4 MiB piece of data
// and room for the fields around it. Bounds what one frame can make the other end hold.
constexpr uint32_t max_data_piece = 4 * 1024 * 1024;
constexpr uint32_t max_frame_length = max_data_piece + 4096;
// Entries in one page of a listing reply.
constexpr uint32_t list_page_entries = 4096;
// Uploads one session may have unfinished at once, and the largest object it may save.
constexpr uint32_t max_open_uploads = 256;
constexpr uint64_t max_object_size = uint64_t(1) << 40;

enum class Kind : uint8_t {
  hello = 0x01,
  create = 0x10,
  save_begin = 0x11,
  save_data = 0x12,
  load = 0x13,
  stat = 0x14,
  remove = 0x15,
  list = 0x16,
  remove_temporaries = 0x17,
  reply = 0x80,
};

enum class Status : uint8_t {
  ok = 0,
  not_found = 1,     // no such object
  short_object = 2,  // the object ends before the range asked for
  refused = 3,       // the site is append-only
  exists = 4,        // create: a repository is already there
  bad_request = 5,   // malformed, or against the protocol; the server closes the session
  failed = 6,        // the server's own failure (a full disk); the message says what
};

std::string to_string(Status status);
std::string to_string(Kind kind);

// Flags of the hello reply.
constexpr uint32_t flag_append_only = 0x1;

// A frame that breaks the protocol: the session cannot be trusted after it.
class ProtocolError : public Error {
 public:
  using Error::Error;
};

// Builds one frame: uint32 length (big-endian, of what follows), byte kind, uint32 request
// id, then the fields.
class FrameWriter {
 public:
  FrameWriter(Kind kind, uint32_t id);

  FrameWriter& u8(uint8_t value);
  FrameWriter& u32(uint32_t value);
  FrameWriter& u64(uint64_t value);
  FrameWriter& string(std::string_view text);
  FrameWriter& bytes(ByteView data);  // uint32 length, then the bytes
  FrameWriter& handle(const Handle& handle);  // byte type, string name
  // The finished frame; `tail_length` more bytes, sent right after it, belong to it (a
  // piece of data goes out from the caller's buffer, not copied in here).
  ByteView finish(uint32_t tail_length = 0);

 private:
  Bytes bytes_;
};

// Reads the fields of one frame (after its length). Every read past the end, and every
// value out of range, throws ProtocolError.
class FrameReader {
 public:
  explicit FrameReader(ByteView frame) : frame_(frame) {}

  uint8_t u8();
  uint32_t u32();
  uint64_t u64();
  ByteView bytes();
  std::string string() { return obkeep::to_string(bytes()); }
  // A type and a name that valid_object_name() accepts.
  Handle handle();
  Kind kind() { return static_cast<Kind>(u8()); }
  Status status();
  ByteView rest();  // every byte not read yet
  bool at_end() const { return position_ == frame_.size(); }
  // Throws unless every byte was read (a frame with trailing bytes is malformed).
  void expect_end() const;

 private:
  const uint8_t* take(size_t length);
  ByteView frame_;
  size_t position_ = 0;
};

// The length a frame header announces, checked against the limits; throws ProtocolError
// naming `peer`.
uint32_t frame_length(const uint8_t header[4], const std::string& peer);

}  // namespace obkeep::storage::serve
