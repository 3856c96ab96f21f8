// S3 Object Lock as obkeep uses it: the retention asked for, the headers that carry it on
// each write, and what a bucket's object-lock configuration says.
#pragma once

#include <cstdint>
#include <ctime>
#include <map>
#include <optional>
#include <string>

#include "util/bytes.hpp"

namespace obkeep::storage {

enum class ObjectLockMode { compliance, governance };

// Retention for every object written but locks: `days` from the write, in `mode`.
struct ObjectLock {
  unsigned days = 0;  // 0: no retention asked for
  ObjectLockMode mode = ObjectLockMode::compliance;

  bool enabled() const { return days > 0; }
  // "compliance, 30 days".
  std::string describe() const;
};

// Most days of retention accepted (S3 allows 100 years; a typo of 3650000 should not pass).
constexpr unsigned max_object_lock_days = 36500;

// "compliance" or "governance" (any case); throws Error (usage) naming `where` otherwise.
ObjectLockMode parse_object_lock_mode(const std::string& text, const std::string& where);
const char* to_string(ObjectLockMode mode);

// "2026-12-31T23:59:59Z": `days` after `now`, as x-amz-object-lock-retain-until-date wants.
std::string retain_until_date(std::time_t now, unsigned days);

// Adds x-amz-object-lock-mode and x-amz-object-lock-retain-until-date to a PUT or
// CreateMultipartUpload. A store that locks objects wants Content-MD5 on their bodies too
// (content_md5 below), and on each part of a multipart upload.
void add_retention_headers(std::map<std::string, std::string>& headers, const ObjectLock& lock, std::time_t now);

// The body of PutObjectRetention (PUT ?retention) giving the same retention.
std::string retention_body(const ObjectLock& lock, std::time_t now);

// When a retention (Unix ns, as Backend::retained_until gives it) ends, for messages:
// "2026-12-31T23:59:59Z", or for a legal hold (INT64_MAX) "its legal hold is lifted".
std::string retention_end(int64_t until_ns);

// The Content-MD5 header's value: the base64 of the body's MD5.
std::string content_md5(ByteView body);

// What GET /bucket?object-lock said.
struct BucketObjectLock {
  // unknown: the store would not say (an error such as AccessDenied answered the question).
  enum class State { enabled, disabled, unsupported, unknown } state = State::unknown;
  std::string evidence;  // for messages: "NotImplemented", "ObjectLockConfigurationNotFoundError", …
};

// Reads the answer to GetObjectLockConfiguration: an ObjectLockConfiguration with
// ObjectLockEnabled "Enabled" is enabled; ObjectLockConfigurationNotFoundError (or any other
// ObjectLockEnabled) is a bucket made without it; NotImplemented, or any other document (Swift's
// s3api ignores the subresource and answers a bucket listing) is a store without Object Lock.
// Returns nullopt for an answer that says nothing about object lock (an error such as
// AccessDenied or NoSuchBucket): the caller reports it.
std::optional<BucketObjectLock> read_bucket_object_lock(long status, ByteView body);

}  // namespace obkeep::storage
