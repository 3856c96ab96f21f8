// AWS Signature Version 4: canonical request, string to sign, HMAC-SHA-256 key chain.
#include "storage/s3/sigv4.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>

#include "crypto/hash.hpp"
#include "util/bytes.hpp"

namespace obkeep::storage {

namespace {

std::string hmac(const std::string& key, const std::string& message) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(message.data()),
       message.size(), out, &length);
  return std::string(reinterpret_cast<const char*>(out), length);
}

std::string sha256_hex(const std::string& text) { return crypto::sha256(as_bytes(text)).hex(); }

bool unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.' || c == '~';
}

std::string trim(const std::string& value) {
  size_t start = value.find_first_not_of(" \t");
  if (start == std::string::npos) return "";
  return value.substr(start, value.find_last_not_of(" \t") - start + 1);
}

}  // namespace

std::string uri_encode(const std::string& text, bool keep_slash) {
  static const char digits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (unreserved(c) || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 15];
    }
  }
  return out;
}

std::string amz_date(std::time_t time) {
  std::tm utc{};
  gmtime_r(&time, &utc);
  char text[17];
  std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &utc);
  return text;
}

std::string canonical_query(std::vector<std::pair<std::string, std::string>> query) {
  for (auto& [name, value] : query) {
    name = uri_encode(name, false);
    value = uri_encode(value, false);
  }
  std::sort(query.begin(), query.end());
  std::string out;
  for (const auto& [name, value] : query) out += (out.empty() ? "" : "&") + name + "=" + value;
  return out;
}

std::string sign_v4(const S3Credentials& credentials, const SigningInput& input) {
  std::string canonical_headers, signed_headers;
  for (const auto& [name, value] : input.headers) {  // a std::map: already sorted by name
    canonical_headers += name + ":" + trim(value) + "\n";
    signed_headers += (signed_headers.empty() ? "" : ";") + name;
  }
  std::string canonical_request = input.method + "\n" + input.path + "\n" + canonical_query(input.query) + "\n" +
                                  canonical_headers + "\n" + signed_headers + "\n" + input.payload_sha256;
  std::string timestamp = amz_date(input.time);
  std::string day = timestamp.substr(0, 8);
  std::string scope = day + "/" + credentials.region + "/s3/aws4_request";
  std::string string_to_sign = "AWS4-HMAC-SHA256\n" + timestamp + "\n" + scope + "\n" + sha256_hex(canonical_request);
  std::string key = hmac("AWS4" + credentials.secret_key, day);
  key = hmac(key, credentials.region);
  key = hmac(key, "s3");
  key = hmac(key, "aws4_request");
  std::string signature = to_hex(as_bytes(hmac(key, string_to_sign)));
  return "AWS4-HMAC-SHA256 Credential=" + credentials.access_key + "/" + scope + ", SignedHeaders=" + signed_headers +
         ", Signature=" + signature;
}

}  // namespace obkeep::storage
