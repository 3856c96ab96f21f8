// obkeep serve frames byte for byte (docs/serve-protocol.md), and the reader's refusal of
// anything malformed: truncated fields, bad types and names, trailing bytes, long frames.
#include "storage/serve/serve_protocol.hpp"

#include <gtest/gtest.h>

namespace obkeep::storage::serve {
namespace {

const std::string some_id(64, 'a');

TEST(ServeProtocol, WritesLengthKindIdAndFields) {
  FrameWriter frame(Kind::stat, 7);
  frame.handle(Handle{FileType::snapshot, "config"});  // the writer does not judge names
  ByteView bytes = frame.finish();
  Bytes expected = {0, 0, 0, 16, 0x14, 0, 0, 0, 7, 4, 0, 0, 0, 6, 'c', 'o', 'n', 'f', 'i', 'g'};
  EXPECT_EQ(Bytes(bytes.begin(), bytes.end()), expected);
}

TEST(ServeProtocol, LengthCountsADataTailSentSeparately) {
  FrameWriter frame(Kind::save_data, 3);
  ByteView bytes = frame.finish(1000);
  EXPECT_EQ(bytes.size(), 9u);
  EXPECT_EQ(frame_length(bytes.data(), "test"), 5u + 1000u);
}

TEST(ServeProtocol, ReadsWhatTheWriterWrote) {
  FrameWriter frame(Kind::load, 0xfffffffe);
  frame.handle(Handle{FileType::pack, some_id}).u64(uint64_t(1) << 40).u64(5).string("x");
  ByteView bytes = frame.finish();
  FrameReader reader(bytes.subspan(4));
  EXPECT_EQ(reader.kind(), Kind::load);
  EXPECT_EQ(reader.u32(), 0xfffffffeu);
  Handle handle = reader.handle();
  EXPECT_EQ(handle.type, FileType::pack);
  EXPECT_EQ(handle.name, some_id);
  EXPECT_EQ(reader.u64(), uint64_t(1) << 40);
  EXPECT_EQ(reader.u64(), 5u);
  EXPECT_EQ(reader.string(), "x");
  EXPECT_NO_THROW(reader.expect_end());
}

Bytes handle_field(uint8_t type, const std::string& name) {
  FrameWriter frame(Kind::stat, 1);
  frame.u8(type).string(name);
  ByteView bytes = frame.finish();
  return Bytes(bytes.begin() + 9, bytes.end());
}

TEST(ServeProtocol, RefusesNamesThatAreNotObjectIds) {
  for (const std::string& name : {std::string("../../etc/passwd"), std::string("config"), std::string(63, 'a'),
                                  std::string(64, 'A'), std::string(63, 'a').append("/"), std::string(65, 'a'), std::string()}) {
    Bytes field = handle_field(static_cast<uint8_t>(FileType::pack), name);
    FrameReader reader(field);
    EXPECT_THROW(reader.handle(), ProtocolError) << name;
  }
  Bytes config = handle_field(static_cast<uint8_t>(FileType::config), "config");
  FrameReader reader(config);
  EXPECT_EQ(reader.handle().name, "config");
}

TEST(ServeProtocol, RefusesUnknownTypesAndStatuses) {
  // 8 (archive entry) is the last type.
  Bytes field = handle_field(9, some_id);
  FrameReader reader(field);
  EXPECT_THROW(reader.handle(), ProtocolError);
  Bytes status = {7};
  FrameReader status_reader(status);
  EXPECT_THROW(status_reader.status(), ProtocolError);
}

TEST(ServeProtocol, TruncatedFieldsAndTrailingBytesAreProtocolErrors) {
  Bytes body = {0, 0, 0, 9, 'a'};  // a string claiming 9 bytes, holding 1
  FrameReader reader(body);
  EXPECT_THROW(reader.bytes(), ProtocolError);
  FrameReader empty(ByteView{});
  EXPECT_THROW(empty.u64(), ProtocolError);
  Bytes extra = {1, 2};
  FrameReader trailing(extra);
  trailing.u8();
  EXPECT_THROW(trailing.expect_end(), ProtocolError);
}

TEST(ServeProtocol, FrameLengthsOutsideTheLimitsAreRefused) {
  uint8_t tiny[4] = {0, 0, 0, 4};
  EXPECT_THROW(frame_length(tiny, "peer"), ProtocolError);
  uint32_t over = max_frame_length + 1;
  uint8_t huge[4] = {uint8_t(over >> 24), uint8_t(over >> 16), uint8_t(over >> 8), uint8_t(over)};
  EXPECT_THROW(frame_length(huge, "peer"), ProtocolError);
  uint8_t most[4] = {uint8_t(max_frame_length >> 24), uint8_t(max_frame_length >> 16), uint8_t(max_frame_length >> 8),
                     uint8_t(max_frame_length)};
  EXPECT_EQ(frame_length(most, "peer"), max_frame_length);
}

TEST(ServeProtocol, Names) {
  EXPECT_EQ(to_string(Status::refused), "refused (append-only)");
  EXPECT_EQ(to_string(Kind::save_begin), "save");
  EXPECT_EQ(to_string(static_cast<Kind>(0x42)), "kind 66");
}

}  // namespace
}  // namespace obkeep::storage::serve
