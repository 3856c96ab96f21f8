// AWS Signature Version 4 for S3 requests (header form, signed payload hash).
#pragma once

#include <ctime>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace obkeep::storage {

struct S3Credentials {
  std::string access_key;
  std::string secret_key;
  std::string region;
};

// What SigV4 signs. Headers are keyed by lower-case name and must include host,
// x-amz-date and x-amz-content-sha256; every header given is signed.
struct SigningInput {
  std::string method;
  std::string path;  // already URI-encoded, e.g. "/bucket/data/ab/ab12…"
  std::vector<std::pair<std::string, std::string>> query;  // raw (not encoded) names and values
  std::map<std::string, std::string> headers;
  std::string payload_sha256;  // hex; the value of x-amz-content-sha256
  std::time_t time = 0;
};

// RFC 3986 encoding as SigV4 wants it: unreserved characters kept, '/' kept only in paths.
std::string uri_encode(const std::string& text, bool keep_slash);
// "20130524T000000Z".
std::string amz_date(std::time_t time);
// "name=value&…" sorted by name, both encoded; also the query string the request sends.
std::string canonical_query(std::vector<std::pair<std::string, std::string>> query);
// The Authorization header's value.
std::string sign_v4(const S3Credentials& credentials, const SigningInput& input);

}  // namespace obkeep::storage
