// Parsing of S3 repository URLs: s3://host[:port]/bucket[/prefix][?connections=N] (https) and
// s3+http://… (plain http); the query may also ask for object lock retention
// (object_lock_days=N&object_lock_mode=compliance|governance).
#pragma once

#include <string>

#include "storage/s3/object_lock.hpp"

namespace obkeep::storage {

struct S3Url {
  bool https = true;
  std::string host;    // a name or an IPv4 address; [v6] keeps its brackets
  std::string port;    // empty: the scheme's default
  std::string bucket;
  std::string prefix;  // no leading or trailing slash; may be empty
  unsigned connections = 0;  // requests in flight at most (?connections=N); 0: not given
  ObjectLock object_lock;    // ?object_lock_days=N[&object_lock_mode=…]; days 0: none

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

// `url` with object_lock_days and object_lock_mode added to its query (a DR site's settings
// ride on its URL to the backend); throws Error (usage) when it already has them.
std::string with_object_lock(const std::string& url, const ObjectLock& lock);

}  // namespace obkeep::storage
