// The signature examples of the AWS S3 documentation ("Signature Calculations for the
// Authorization Header: Transferring Payload in a Single Chunk").
#include "storage/s3/sigv4.hpp"

#include <gtest/gtest.h>

namespace obkeep::storage {

namespace {

const S3Credentials example_credentials{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1"};
const std::string empty_sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr std::time_t may_24_2013 = 1369353600;  // 20130524T000000Z

SigningInput example_get(const std::string& path, std::vector<std::pair<std::string, std::string>> query) {
  SigningInput input;
  input.method = "GET";
  input.path = path;
  input.query = std::move(query);
  input.payload_sha256 = empty_sha256;
  input.time = may_24_2013;
  input.headers = {{"host", "examplebucket.s3.amazonaws.com"},
                   {"x-amz-content-sha256", empty_sha256},
                   {"x-amz-date", amz_date(may_24_2013)}};
  return input;
}

std::string signature_of(const std::string& authorization) {
  return authorization.substr(authorization.find("Signature=") + 10);
}

}  // namespace

TEST(SigV4, GetObjectWithRange) {
  SigningInput input = example_get("/test.txt", {});
  input.headers["range"] = "bytes=0-9";
  std::string authorization = sign_v4(example_credentials, input);
  EXPECT_EQ(authorization,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4, ListObjects) {
  SigningInput input = example_get("/", {{"prefix", "J"}, {"max-keys", "2"}});
  EXPECT_EQ(signature_of(sign_v4(example_credentials, input)),
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4, GetBucketLifecycle) {
  SigningInput input = example_get("/", {{"lifecycle", ""}});
  EXPECT_EQ(signature_of(sign_v4(example_credentials, input)),
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(SigV4, EncodingAndQuery) {
  EXPECT_EQ(uri_encode("a b/c~d+e=", true), "a%20b/c~d%2Be%3D");
  EXPECT_EQ(uri_encode("a/b", false), "a%2Fb");
  EXPECT_EQ(canonical_query({{"prefix", "repo/data/"}, {"list-type", "2"}}), "list-type=2&prefix=repo%2Fdata%2F");
}

}  // namespace obkeep::storage
