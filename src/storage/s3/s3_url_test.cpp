#include "storage/s3/s3_url.hpp"

#include <gtest/gtest.h>

#include "util/error.hpp"

namespace obkeep::storage {

TEST(S3Url, HostPortBucketPrefix) {
  S3Url url = parse_s3_url("s3://127.0.0.1:8443/obkeep-test/repo/site-a/");
  EXPECT_TRUE(url.https);
  EXPECT_EQ(url.host, "127.0.0.1");
  EXPECT_EQ(url.port, "8443");
  EXPECT_EQ(url.bucket, "obkeep-test");
  EXPECT_EQ(url.prefix, "repo/site-a");
  EXPECT_EQ(url.endpoint(), "https://127.0.0.1:8443");
  EXPECT_EQ(url.authority(), "127.0.0.1:8443");
}

TEST(S3Url, DefaultsAndPlainHttp) {
  S3Url url = parse_s3_url("s3+http://minio.example/backups");
  EXPECT_FALSE(url.https);
  EXPECT_EQ(url.port, "");
  EXPECT_EQ(url.prefix, "");
  EXPECT_EQ(url.endpoint(), "http://minio.example");
  EXPECT_TRUE(is_s3_url("s3://h/b"));
  EXPECT_FALSE(is_s3_url("/var/s3://x"));
}

TEST(S3Url, Connections) {
  S3Url url = parse_s3_url("s3://127.0.0.1:8443/obkeep-test/repo?connections=16");
  EXPECT_EQ(url.connections, 16u);
  EXPECT_EQ(url.prefix, "repo");
  EXPECT_EQ(parse_s3_url("s3://host/bucket?connections=1").connections, 1u);
  EXPECT_EQ(parse_s3_url("s3://host/bucket?connections=1").bucket, "bucket");
  EXPECT_EQ(parse_s3_url("s3://host/bucket").connections, 0u);  // not given: the default applies
}

TEST(S3Url, ObjectLock) {
  S3Url url = parse_s3_url("s3://host/bucket/repo?connections=4&object_lock_days=30&object_lock_mode=governance");
  EXPECT_EQ(url.connections, 4u);
  EXPECT_EQ(url.object_lock.days, 30u);
  EXPECT_EQ(url.object_lock.mode, ObjectLockMode::governance);
  EXPECT_EQ(url.prefix, "repo");
  EXPECT_EQ(parse_s3_url("s3://host/bucket?object_lock_days=7").object_lock.mode, ObjectLockMode::compliance);
  EXPECT_FALSE(parse_s3_url("s3://host/bucket").object_lock.enabled());
  std::string site = with_object_lock("s3://host/bucket/dr", {14, ObjectLockMode::compliance});
  EXPECT_EQ(site, "s3://host/bucket/dr?object_lock_days=14&object_lock_mode=compliance");
  EXPECT_EQ(parse_s3_url(site).object_lock.days, 14u);
  EXPECT_EQ(with_object_lock("s3://host/bucket?connections=2", {1, ObjectLockMode::governance}),
            "s3://host/bucket?connections=2&object_lock_days=1&object_lock_mode=governance");
  EXPECT_THROW(with_object_lock("s3://host/bucket?object_lock_days=2", {1, ObjectLockMode::governance}), Error);
}

TEST(S3Url, RejectsMalformed) {
  for (const char* bad : {"s3://", "s3://host", "s3://host/", "s3://host:99999/bucket", "s3://host:x/bucket",
                          "s3://host/ab", "s3://host/Upper", "s3://:80/bucket", "s3://host/bucket?connections=0",
                          "s3://host/bucket?connections=65", "s3://host/bucket?connections=",
                          "s3://host/bucket?conns=4",
                          "s3://host/bucket?connections=4&x=1", "s3://host/bucket?connections=99999999999999999999",
                          "s3://host/bucket?object_lock_days=0", "s3://host/bucket?object_lock_days=36501",
                          "s3://host/bucket?object_lock_days=30&object_lock_mode=legal",
                          "s3://host/bucket?object_lock_mode=governance"}) {
    try {
      parse_s3_url(bad);
      ADD_FAILURE() << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::usage) << bad;
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
  }
}

}  // namespace obkeep::storage
