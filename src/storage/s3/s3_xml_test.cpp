#include "storage/s3/s3_xml.hpp"

#include <gtest/gtest.h>

#include "util/error.hpp"

namespace obkeep::storage {

TEST(S3Xml, ErrorCode) {
  EXPECT_EQ(s3_error_code(as_bytes("<?xml version='1.0' encoding='UTF-8'?>\n<Error><Code>SignatureDoesNotMatch</Code>"
                                   "<Message>The request signature we calculated does not match</Message></Error>")),
            "SignatureDoesNotMatch");
  EXPECT_EQ(s3_error_code(as_bytes("")), "");
  EXPECT_EQ(s3_error_code(as_bytes("<html>proxy error</html>")), "");
}

TEST(S3Xml, ListPage) {
  const char* xml =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
      "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>b</Name><Prefix>r/keys/</Prefix>"
      "<KeyCount>2</KeyCount><MaxKeys>2</MaxKeys><IsTruncated>true</IsTruncated>"
      "<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>"
      "<Contents><Key>r/keys/aa</Key><Size>123</Size></Contents>"
      "<Contents><Key>r/keys/bb</Key><Size>21474836480</Size></Contents></ListBucketResult>";
  ListPage page = parse_list_page(as_bytes(xml), "keys");
  ASSERT_EQ(page.objects.size(), 2u);
  EXPECT_EQ(page.objects[0].first, "r/keys/aa");
  EXPECT_EQ(page.objects[1].second, 21474836480ull);
  EXPECT_TRUE(page.truncated);
  EXPECT_EQ(page.next_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
}

TEST(S3Xml, ListPageRejectsOtherDocuments) {
  EXPECT_THROW(parse_list_page(as_bytes("<Error><Code>x</Code></Error>"), "keys"), Error);
  EXPECT_THROW(parse_list_page(as_bytes("not xml"), "keys"), Error);
}

}  // namespace obkeep::storage
