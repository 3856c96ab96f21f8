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

TEST(S3Xml, UploadId) {
  // The answer to CreateMultipartUpload, as in the S3 API reference.
  const char* xml =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<InitiateMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Bucket>example-bucket</Bucket>"
      "<Key>example-object</Key><UploadId>VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId>"
      "</InitiateMultipartUploadResult>";
  EXPECT_EQ(parse_upload_id(as_bytes(xml), "s3://h/b/k"), "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA");
  try {
    parse_upload_id(as_bytes("<Error><Code>x</Code></Error>"), "s3://h/b/k");
    ADD_FAILURE() << "no upload id, no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("s3://h/b/k"), std::string::npos) << e.what();
  }
}

TEST(S3Xml, CompleteMultipartUploadNumbersThePartsInOrder) {
  EXPECT_EQ(complete_multipart_body({"\"a54357aff0632cce46d942af68356b38\"", "\"0c78aef83f66abc1fa1e8477f296d394\""}),
            "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
            "<Part><PartNumber>1</PartNumber><ETag>\"a54357aff0632cce46d942af68356b38\"</ETag></Part>"
            "<Part><PartNumber>2</PartNumber><ETag>\"0c78aef83f66abc1fa1e8477f296d394\"</ETag></Part>"
            "</CompleteMultipartUpload>");
  // Whatever a server puts in an ETag stays well-formed XML.
  std::string odd = complete_multipart_body({"<&>"});
  EXPECT_NE(odd.find("<ETag>&lt;&amp;&gt;</ETag>"), std::string::npos) << odd;
}

TEST(S3Xml, UploadsPage) {
  const char* xml =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
      "<ListMultipartUploadsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Bucket>b</Bucket>"
      "<KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker><NextKeyMarker>r/data/bb/bb</NextKeyMarker>"
      "<NextUploadIdMarker>id-2</NextUploadIdMarker><MaxUploads>2</MaxUploads><IsTruncated>true</IsTruncated>"
      "<Upload><Key>r/data/aa/aa</Key><UploadId>id-1</UploadId><Initiated>2024-01-01T00:00:00.000Z</Initiated></Upload>"
      "<Upload><Key>r/data/bb/bb</Key><UploadId>id-2</UploadId></Upload></ListMultipartUploadsResult>";
  UploadsPage page = parse_uploads_page(as_bytes(xml), "r/");
  ASSERT_EQ(page.uploads.size(), 2u);
  EXPECT_EQ(page.uploads[0], std::make_pair(std::string("r/data/aa/aa"), std::string("id-1")));
  EXPECT_EQ(page.uploads[1].second, "id-2");
  EXPECT_TRUE(page.truncated);
  EXPECT_EQ(page.next_key_marker, "r/data/bb/bb");
  EXPECT_EQ(page.next_upload_id_marker, "id-2");
  EXPECT_THROW(parse_uploads_page(as_bytes("<ListBucketResult/>"), "r/"), Error);
}

}  // namespace obkeep::storage
