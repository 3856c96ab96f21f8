// SFTP v3 message encoding, byte for byte as the draft lays it out, and the reader's
// refusal of truncated fields.
#include "storage/sftp/sftp_protocol.hpp"

#include <gtest/gtest.h>

namespace obkeep::storage::sftp {
namespace {

TEST(SftpProtocol, WritesLengthTypeIdAndFields) {
  MessageWriter message(Message::open, 7);
  message.string("ab").u32(open_read).no_attributes();
  ByteView bytes = message.finish();
  Bytes expected = {0, 0, 0, 19, 3, 0, 0, 0, 7, 0, 0, 0, 2, 'a', 'b', 0, 0, 0, 1, 0, 0, 0, 0};
  EXPECT_EQ(Bytes(bytes.begin(), bytes.end()), expected);
}

TEST(SftpProtocol, LengthCountsADataTailSentSeparately) {
  MessageWriter message(Message::write, 1);
  message.string("h").u64(5).u32(1000);
  ByteView bytes = message.finish(1000);
  uint32_t length = uint32_t{bytes[0]} << 24 | uint32_t{bytes[1]} << 16 | uint32_t{bytes[2]} << 8 | bytes[3];
  EXPECT_EQ(length, bytes.size() - 4 + 1000);
}

TEST(SftpProtocol, ReadsAttributesSkippingWhatItDoesNotUse) {
  // flags: size, uid/gid, permissions, times, one extended pair
  Bytes body = {0x80, 0, 0, 0x0f, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0x41, 0xed,
                0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 1, 'x', 0, 0, 0, 0};
  MessageReader reader(body);
  Attributes attributes = reader.attributes();
  EXPECT_EQ(attributes.size, 4096u);
  EXPECT_TRUE(attributes.is_directory());
  EXPECT_TRUE(reader.at_end());
}

TEST(SftpProtocol, TruncatedFieldsAreProtocolErrors) {
  Bytes body = {0, 0, 0, 9, 'a'};  // a string claiming 9 bytes, holding 1
  MessageReader reader(body);
  EXPECT_THROW(reader.bytes(), ProtocolError);
  MessageReader empty(ByteView{});
  EXPECT_THROW(empty.u32(), ProtocolError);
}

TEST(SftpProtocol, StatusNames) {
  EXPECT_EQ(to_string(Status::no_such_file), "no such file");
  EXPECT_EQ(to_string(static_cast<Status>(99)), "sftp status 99");
}

}  // namespace
}  // namespace obkeep::storage::sftp
