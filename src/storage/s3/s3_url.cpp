// Parsing of S3 repository URLs.
#include "storage/s3/s3_url.hpp"

#include <algorithm>

#include "util/error.hpp"

namespace obkeep::storage {

namespace {

constexpr std::string_view https_scheme = "s3://";
constexpr std::string_view http_scheme = "s3+http://";

[[noreturn]] void reject(const std::string& url, const std::string& why) {
  throw Error("invalid S3 repository URL " + url + ": " + why +
                  " (want s3://host[:port]/bucket[/prefix][?connections=N&object_lock_days=D&object_lock_mode=M])",
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

unsigned parse_number(const std::string& url, const std::string& name, const std::string& value, unsigned most) {
  if (!all_digits(value) || value.size() > 6 || std::stoul(value) < 1 || std::stoul(value) > most)
    reject(url, name + " must be 1 to " + std::to_string(most));
  return static_cast<unsigned>(std::stoul(value));
}

// The query of a URL: name=value pairs joined by '&'.
void parse_query(const std::string& url, const std::string& query, S3Url& parsed) {
  bool mode_given = false;
  size_t start = 0;
  while (start <= query.size()) {
    size_t end = std::min(query.find('&', start), query.size());
    std::string pair = query.substr(start, end - start);
    size_t equals = pair.find('=');
    std::string name = pair.substr(0, equals);
    std::string value = equals == std::string::npos ? "" : pair.substr(equals + 1);
    if (name == "connections") {
      parsed.connections = parse_number(url, name, value, max_s3_connections);
    } else if (name == "object_lock_days") {
      parsed.object_lock.days = parse_number(url, name, value, max_object_lock_days);
    } else if (name == "object_lock_mode") {
      parsed.object_lock.mode = parse_object_lock_mode(value, "S3 repository URL " + url);
      mode_given = true;
    } else {
      reject(url, "unknown parameter '" + pair + "'");
    }
    start = end + 1;
  }
  if (mode_given && !parsed.object_lock.enabled()) reject(url, "object_lock_mode needs object_lock_days");
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

std::string with_object_lock(const std::string& url, const ObjectLock& lock) {
  if (parse_s3_url(url).object_lock.enabled())
    throw Error(url + ": object lock is set both on the URL and beside it; say it once", ExitCode::usage);
  return url + (url.find('?') == std::string::npos ? "?" : "&") + "object_lock_days=" + std::to_string(lock.days) +
         "&object_lock_mode=" + to_string(lock.mode);
}

std::string S3Url::authority() const { return port.empty() ? host : host + ":" + port; }

std::string S3Url::endpoint() const { return (https ? "https://" : "http://") + authority(); }

}  // namespace obkeep::storage
