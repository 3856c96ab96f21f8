// Parsing of S3 repository URLs.
#include "storage/s3/s3_url.hpp"

#include "util/error.hpp"

namespace obkeep::storage {

namespace {

constexpr std::string_view https_scheme = "s3://";
constexpr std::string_view http_scheme = "s3+http://";

[[noreturn]] void reject(const std::string& url, const std::string& why) {
  throw Error(
      "invalid S3 repository URL " + url + ": " + why + " (want s3://host[:port]/bucket[/prefix][?connections=N])",
      ExitCode::usage);
}

bool all_digits(const std::string& text) {
  if (text.empty()) return false;
  for (char c : text)
    if (c < '0' || c > '9') return false;
  return true;
}

// Bucket names: 3-63 of lower-case letters, digits, '.' and '-' (the S3 rules clients enforce).
bool valid_bucket(const std::string& name) {
  if (name.size() < 3 || name.size() > 63) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-')) return false;
  return true;
}

std::string trim_slashes(std::string text) {
  while (!text.empty() && text.back() == '/') text.pop_back();
  size_t start = text.find_first_not_of('/');
  return start == std::string::npos ? std::string() : text.substr(start);
}

// The query of a URL: only connections=N, the most requests in flight.
void parse_query(const std::string& url, const std::string& query, S3Url& parsed) {
  constexpr std::string_view connections = "connections=";
  if (query.rfind(connections, 0) != 0) reject(url, "unknown parameter '" + query + "'");
  std::string value = query.substr(connections.size());
  if (!all_digits(value) || value.size() > 3 || std::stoul(value) < 1 || std::stoul(value) > max_s3_connections)
    reject(url, "connections must be 1 to " + std::to_string(max_s3_connections));
  parsed.connections = static_cast<unsigned>(std::stoul(value));
}

}  // namespace

bool is_s3_url(const std::string& url) {
  return url.rfind(https_scheme, 0) == 0 || url.rfind(http_scheme, 0) == 0;
}

S3Url parse_s3_url(const std::string& url) {
  S3Url parsed;
  parsed.https = url.rfind(https_scheme, 0) == 0;
  std::string rest = url.substr(parsed.https ? https_scheme.size() : http_scheme.size());
  if (size_t question = rest.find('?'); question != std::string::npos) {
    parse_query(url, rest.substr(question + 1), parsed);
    rest.resize(question);
  }
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  std::string path = slash == std::string::npos ? std::string() : rest.substr(slash + 1);
  size_t colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']', colon) == std::string::npos) {
    parsed.port = authority.substr(colon + 1);
    authority.resize(colon);
    if (!all_digits(parsed.port) || std::stoul(parsed.port) > 65535) reject(url, "bad port");
  }
  if (authority.empty()) reject(url, "no host");
  parsed.host = authority;
  size_t bucket_end = path.find('/');
  parsed.bucket = path.substr(0, bucket_end);
  if (parsed.bucket.empty()) reject(url, "no bucket");
  if (!valid_bucket(parsed.bucket)) reject(url, "bad bucket name '" + parsed.bucket + "'");
  if (bucket_end != std::string::npos) parsed.prefix = trim_slashes(path.substr(bucket_end + 1));
  return parsed;
}

std::string S3Url::authority() const { return port.empty() ? host : host + ":" + port; }

std::string S3Url::endpoint() const { return (https ? "https://" : "http://") + authority(); }

}  // namespace obkeep::storage
