#include "storage/s3/object_lock.hpp"

#include <gtest/gtest.h>

#include "util/error.hpp"

namespace obkeep::storage {

TEST(ObjectLock, RetentionHeaders) {
  std::map<std::string, std::string> headers;
  add_retention_headers(headers, {30, ObjectLockMode::compliance}, 1767225600);  // 2026-01-01T00:00:00Z
  EXPECT_EQ(headers["x-amz-object-lock-mode"], "COMPLIANCE");
  EXPECT_EQ(headers["x-amz-object-lock-retain-until-date"], "2026-01-31T00:00:00Z");
  add_retention_headers(headers, {1, ObjectLockMode::governance}, 1767225600 + 3661);
  EXPECT_EQ(headers["x-amz-object-lock-mode"], "GOVERNANCE");
  EXPECT_EQ(headers["x-amz-object-lock-retain-until-date"], "2026-01-02T01:01:01Z");
  EXPECT_EQ((ObjectLock{30, ObjectLockMode::governance}.describe()), "governance, 30 days");
  EXPECT_EQ(retention_body({30, ObjectLockMode::compliance}, 1767225600),
            "<Retention xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Mode>COMPLIANCE</Mode>"
            "<RetainUntilDate>2026-01-31T00:00:00Z</RetainUntilDate></Retention>");
}

TEST(ObjectLock, RetentionEnd) {
  EXPECT_EQ(retention_end(int64_t{1767225600} * 1000000000 + 5), "2026-01-01T00:00:00Z");
  EXPECT_EQ(retention_end(INT64_MAX), "its legal hold is lifted");
}

TEST(ObjectLock, ContentMd5) {
  EXPECT_EQ(content_md5({}), "1B2M2Y8AsgTpgAmY7PhCfg==");  // RFC 1864's MD5 of nothing, base64
  EXPECT_EQ(content_md5(as_bytes(std::string("hello"))), "XUFAKrxLKna5cZ2REBfFkg==");
}

TEST(ObjectLock, Modes) {
  EXPECT_EQ(parse_object_lock_mode("Governance", "here"), ObjectLockMode::governance);
  EXPECT_EQ(parse_object_lock_mode("compliance", "here"), ObjectLockMode::compliance);
  EXPECT_THROW(parse_object_lock_mode("legal-hold", "here"), Error);
}

TEST(ObjectLock, BucketConfiguration) {
  using State = BucketObjectLock::State;
  auto read = [](long status, const std::string& body) { return read_bucket_object_lock(status, as_bytes(body)); };
  // Ceph's RADOS Gateway, with and without the namespace AWS puts on it.
  auto enabled = read(200, "<?xml version=\"1.0\"?><ObjectLockConfiguration><ObjectLockEnabled>Enabled"
                           "</ObjectLockEnabled></ObjectLockConfiguration>");
  ASSERT_TRUE(enabled);
  EXPECT_EQ(enabled->state, State::enabled);
  enabled = read(200, "<ObjectLockConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><ObjectLockEnabled>"
                      "Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>1</Days>"
                      "</DefaultRetention></Rule></ObjectLockConfiguration>");
  EXPECT_EQ(enabled->state, State::enabled);
  auto missing = read(404, "<Error><Code>ObjectLockConfigurationNotFoundError</Code></Error>");
  EXPECT_EQ(missing->state, State::disabled);
  EXPECT_EQ(missing->evidence, "ObjectLockConfigurationNotFoundError");
  auto unsupported = read(501, "<Error><Code>NotImplemented</Code></Error>");
  EXPECT_EQ(unsupported->state, State::unsupported);
  EXPECT_EQ(unsupported->evidence, "NotImplemented");
  // Swift's s3api does not know the subresource and lists the bucket instead.
  auto listing = read(200, "<ListBucketResult><Name>b</Name></ListBucketResult>");
  EXPECT_EQ(listing->state, State::unsupported);
  EXPECT_EQ(listing->evidence, "answered ListBucketResult, not ObjectLockConfiguration");
  EXPECT_FALSE(read(403, "<Error><Code>AccessDenied</Code></Error>"));
  EXPECT_FALSE(read(404, "<Error><Code>NoSuchBucket</Code></Error>"));
}

}  // namespace obkeep::storage
