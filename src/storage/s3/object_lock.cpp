// S3 Object Lock: retention headers, Content-MD5 and the bucket's object-lock configuration.
#include "storage/s3/object_lock.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <optional>
#include <pugixml.hpp>

#include "storage/s3/s3_xml.hpp"
#include "util/error.hpp"
#include "util/host.hpp"
#include "util/text.hpp"

namespace obkeep::storage {

std::string ObjectLock::describe() const {
  return std::string(to_string(mode)) + ", " + std::to_string(days) + (days == 1 ? " day" : " days");
}

ObjectLockMode parse_object_lock_mode(const std::string& text, const std::string& where) {
  std::string lower = ascii_lower(text);
  if (lower == "compliance") return ObjectLockMode::compliance;
  if (lower == "governance") return ObjectLockMode::governance;
  throw Error(where + ": object lock mode '" + text + "' is neither compliance nor governance", ExitCode::usage);
}

const char* to_string(ObjectLockMode mode) { return mode == ObjectLockMode::governance ? "governance" : "compliance"; }

std::string retain_until_date(std::time_t now, unsigned days) {
  std::time_t until = now + static_cast<std::time_t>(days) * 86400;
  std::tm utc{};
  gmtime_r(&until, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

namespace {
const char* mode_value(ObjectLockMode mode) { return mode == ObjectLockMode::governance ? "GOVERNANCE" : "COMPLIANCE"; }
}  // namespace

void add_retention_headers(std::map<std::string, std::string>& headers, const ObjectLock& lock, std::time_t now) {
  headers["x-amz-object-lock-mode"] = mode_value(lock.mode);
  headers["x-amz-object-lock-retain-until-date"] = retain_until_date(now, lock.days);
}

std::string retention_body(const ObjectLock& lock, std::time_t now) {
  return std::string("<Retention xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Mode>") + mode_value(lock.mode) +
         "</Mode><RetainUntilDate>" + retain_until_date(now, lock.days) + "</RetainUntilDate></Retention>";
}

std::string retention_end(int64_t until_ns) {
  return until_ns == INT64_MAX ? "its legal hold is lifted" : format_rfc3339(until_ns).substr(0, 19) + "Z";
}

std::string content_md5(ByteView body) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(body.data(), body.size(), digest, &length, EVP_md5(), nullptr) != 1)
    throw Error("cannot compute the MD5 of an S3 upload");
  return base64_encode(ByteView(digest, length));
}

std::optional<BucketObjectLock> read_bucket_object_lock(long status, ByteView body) {
  std::string code = s3_error_code(body);
  using State = BucketObjectLock::State;
  if (status == 501 || code == "NotImplemented") return BucketObjectLock{State::unsupported, "NotImplemented"};
  if (code == "ObjectLockConfigurationNotFoundError") return BucketObjectLock{State::disabled, code};
  if (!code.empty() || status != 200) return std::nullopt;
  pugi::xml_document document;
  document.load_buffer(body.data(), body.size());
  pugi::xml_node configuration = document.child("ObjectLockConfiguration");
  if (!configuration) {
    std::string root = document.first_child() ? document.first_child().name() : "";
    return BucketObjectLock{State::unsupported, root.empty() ? "an answer that is not XML"
                                                             : "answered " + root + ", not ObjectLockConfiguration"};
  }
  std::string enabled = configuration.child_value("ObjectLockEnabled");
  if (enabled == "Enabled") return BucketObjectLock{State::enabled, "Enabled"};
  return BucketObjectLock{State::disabled, "ObjectLockEnabled " + (enabled.empty() ? "absent" : enabled)};
}

}  // namespace obkeep::storage
