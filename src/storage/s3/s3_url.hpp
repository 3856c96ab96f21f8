// Parsing of S3 repository URLs: s3://host[:port]/bucket[/prefix][?connections=N] (https) and
// s3+http://… (plain http).
#pragma once

#include <string>

namespace obkeep::storage {

struct S3Url {
  bool https = true;
  std::string host;    // a name or an IPv4 address; [v6] keeps its brackets
  std::string port;    // empty: the scheme's default
  std::string bucket;
  std::string prefix;  // no leading or trailing slash; may be empty
  unsigned connections = 0;  // requests in flight at most (?connections=N); 0: not given

  // "host" or "host:port", as sent in the Host header and signed.
  std::string authority() const;
  // "https://host:port", the start of every request URL.
  std::string endpoint() const;
};

bool is_s3_url(const std::string& url);
// Most requests in flight that ?connections= accepts.
constexpr unsigned max_s3_connections = 64;

// Throws Error (usage) naming the URL when it is malformed.
S3Url parse_s3_url(const std::string& url);

}  // namespace obkeep::storage
