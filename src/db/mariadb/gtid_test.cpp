#include "db/mariadb/gtid.hpp"

#include <gtest/gtest.h>

namespace obkeep::db {

TEST(Gtid, ParsesAndPrints) {
  auto gtid = parse_gtid("0-1-105");
  ASSERT_TRUE(gtid);
  EXPECT_EQ(gtid->domain, 0u);
  EXPECT_EQ(gtid->server, 1u);
  EXPECT_EQ(gtid->sequence, 105u);
  EXPECT_EQ(gtid->to_string(), "0-1-105");
  for (const char* bad : {"", "0-1", "0-1-", "a-1-2", "0-1-2-3", "-1-2", "0--2", "0-1-99999999999999999999999"})
    EXPECT_FALSE(parse_gtid(bad)) << bad;
}

TEST(Gtid, Positions) {
  auto position = parse_gtid_position("0-1-105, 3-2-7");
  ASSERT_TRUE(position);
  EXPECT_EQ(position->size(), 2u);
  EXPECT_EQ(position->at(3).sequence, 7u);
  EXPECT_EQ(to_string(*position), "0-1-105,3-2-7");
  EXPECT_TRUE(parse_gtid_position("")->empty());
  EXPECT_FALSE(parse_gtid_position("0-1-1,0-2-2"));  // two of one domain
  EXPECT_FALSE(parse_gtid_position("0-1-1,"));
}

TEST(Gtid, ReadsTheGtidEvent) {
  // A GTID event: header (timestamp, type 162, server id 7, length, next position, flags),
  // then sequence 0x0102 and domain 3, flags, and a checksum.
  Bytes event = {0, 0, 0, 0, 162, 7, 0, 0, 0, 42, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                 0x02, 0x01, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0xaa, 0xbb, 0xcc, 0xdd};
  auto gtid = gtid_of_event(event);
  ASSERT_TRUE(gtid);
  EXPECT_EQ(gtid->to_string(), "3-7-258");
  event[4] = 2;  // a query event
  EXPECT_FALSE(gtid_of_event(event));
  event[4] = 162;
  event.resize(25);
  EXPECT_FALSE(gtid_of_event(event));
}

}  // namespace obkeep::db
