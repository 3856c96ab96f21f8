// A repository under a prefix of an S3 bucket.
#include "storage/s3/s3_backend.hpp"

#include <cstdlib>

#include "storage/s3/s3_xml.hpp"
#include "util/error.hpp"

namespace obkeep::storage {

namespace {

const char* folder_of(FileType type) {
  switch (type) {
    case FileType::config: return "";
    case FileType::key: return "keys/";
    case FileType::pack: return "data/";
    case FileType::index: return "index/";
    case FileType::snapshot: return "snapshots/";
    case FileType::lock: return "locks/";
  }
  return "";
}

bool valid_name(const Handle& handle) {
  if (handle.type == FileType::config) return handle.name == "config";
  if (handle.name.size() != 64) return false;
  for (char c : handle.name)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::string hint_for(const std::string& code) {
  if (code == "SignatureDoesNotMatch") return " (the signature was rejected: check AWS_SECRET_ACCESS_KEY)";
  if (code == "InvalidAccessKeyId") return " (unknown access key: check AWS_ACCESS_KEY_ID)";
  if (code == "AccessDenied") return " (access denied: these credentials may not use this bucket)";
  if (code == "RequestTimeTooSkewed") return " (this machine's clock is off)";
  return "";
}

std::string environment(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

}  // namespace

S3Backend::S3Backend(std::string location, S3Url url, S3Credentials credentials, std::string ca_file)
    : location_(std::move(location)), client_(std::move(url), std::move(credentials), std::move(ca_file)) {}

std::string S3Backend::under_prefix(const std::string& relative) const {
  const std::string& prefix = client_.url().prefix;
  return prefix.empty() ? relative : prefix + "/" + relative;
}

std::string S3Backend::key_of(const Handle& handle) const {
  if (!valid_name(handle)) throw Error("invalid object name: " + handle.name);
  if (handle.type == FileType::config) return under_prefix("config");
  if (handle.type == FileType::pack) return under_prefix("data/" + handle.name.substr(0, 2) + "/" + handle.name);
  return under_prefix(folder_of(handle.type) + handle.name);
}

S3Response S3Backend::send(const S3Request& request) {
  S3Response response = client_.perform(request);
  if (request.method != "HEAD" || response.status < 300 || response.status == 404) return response;
  S3Request probe = request;
  probe.method = "GET";
  probe.headers["range"] = "bytes=0-0";
  if (request.key.empty()) probe.query = {{"max-keys", "0"}};  // the bucket: a listing of nothing
  S3Response answer = client_.perform(probe);
  return answer.status == response.status ? answer : response;
}

std::string S3Backend::url_of(const std::string& key) const {
  const S3Url& url = client_.url();
  return (url.https ? "s3://" : "s3+http://") + url.authority() + "/" + url.bucket + (key.empty() ? "" : "/" + key);
}

void S3Backend::fail(const std::string& action, const std::string& key, const S3Response& response) const {
  std::string code = s3_error_code(response.body);
  throw Error("cannot " + action + " " + url_of(key) + ": HTTP " + std::to_string(response.status) +
              (code.empty() ? "" : " " + code) + hint_for(code) +
              (response.attempts > 1 ? " (after " + std::to_string(response.attempts) + " attempts)" : ""));
}

void S3Backend::create_bucket() {
  S3Response head = send({"HEAD", "", {}, {}, {}, 0});
  if (head.status == 200) return;
  if (head.status != 404) fail("check bucket", "", head);
  // Outside us-east-1, S3 wants the region named in the body of a bucket creation.
  std::string body;
  if (client_.region() != "us-east-1")
    body = "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>" +
           client_.region() + "</LocationConstraint></CreateBucketConfiguration>";
  S3Response created = send({"PUT", "", {}, {}, as_bytes(body), 0});
  if (created.status == 200 || s3_error_code(created.body) == "BucketAlreadyOwnedByYou") return;
  fail("create bucket", "", created);
}

void S3Backend::create() {
  create_bucket();
  if (stat(Handle{FileType::config, "config"})) throw Error("a repository already exists at " + location_);
}

void S3Backend::save(const Handle& handle, ByteView data) {
  std::string key = key_of(handle);
  S3Response response = send({"PUT", key, {}, {}, data, 0});
  if (response.status != 200) fail("save", key, response);
}

Bytes S3Backend::load(const Handle& handle, uint64_t offset, uint64_t length) {
  std::string key = key_of(handle);
  S3Request request{"GET", key, {}, {}, {}, static_cast<size_t>(length)};
  bool ranged = offset > 0 || length > 0;
  if (ranged)
    request.headers["range"] =
        "bytes=" + std::to_string(offset) + "-" + (length > 0 ? std::to_string(offset + length - 1) : "");
  S3Response response = send(request);
  if (response.status == 416)
    throw Error("short object " + url_of(key) + ": wanted " + std::to_string(length) + " bytes at " +
                std::to_string(offset) + ", beyond its end");
  if (response.status == 404) throw Error("missing object " + url_of(key));
  if (response.status != 200 && response.status != 206) fail("load", key, response);
  // A server that ignores Range answers 200 with the whole object.
  if (ranged && response.status == 200) {
    if (offset > response.body.size()) throw Error("short object " + url_of(key));
    response.body.erase(response.body.begin(), response.body.begin() + static_cast<ptrdiff_t>(offset));
    if (length > 0 && response.body.size() > length) response.body.resize(length);
  }
  if (length > 0 && response.body.size() != length)
    throw Error("short object " + url_of(key) + ": wanted " + std::to_string(length) + " bytes at " +
                std::to_string(offset) + ", got " + std::to_string(response.body.size()));
  return std::move(response.body);
}

std::optional<uint64_t> S3Backend::stat(const Handle& handle) {
  std::string key = key_of(handle);
  S3Response response = send({"HEAD", key, {}, {}, {}, 0});
  if (response.status == 404) return std::nullopt;
  if (response.status != 200) fail("stat", key, response);
  auto length = response.headers.find("content-length");
  if (length == response.headers.end()) throw Error("S3 gave no size for " + url_of(key));
  return std::stoull(length->second);
}

void S3Backend::remove(const Handle& handle) {
  std::string key = key_of(handle);
  S3Response response = send({"DELETE", key, {}, {}, {}, 0});
  if (response.status != 204 && response.status != 200 && response.status != 404) fail("remove", key, response);
}

void S3Backend::list(FileType type, const std::function<void(const std::string&, uint64_t)>& visit) {
  if (type == FileType::config) {
    if (auto size = stat(Handle{type, "config"})) visit("config", *size);
    return;
  }
  std::string prefix = under_prefix(folder_of(type));
  std::string token;
  do {
    S3Request request{"GET", "", {{"list-type", "2"}, {"prefix", prefix}}, {}, {}, 0};
    if (list_page_size_ > 0) request.query.emplace_back("max-keys", std::to_string(list_page_size_));
    if (!token.empty()) request.query.emplace_back("continuation-token", token);
    S3Response response = send(request);
    if (response.status != 200) fail("list", prefix, response);
    ListPage page = parse_list_page(response.body, prefix);
    for (const auto& [key, size] : page.objects) {
      Handle handle{type, key.substr(key.rfind('/') + 1)};
      // Only names at their exact place count: not stray keys such as a pack under the wrong folder.
      if (valid_name(handle) && key_of(handle) == key) visit(handle.name, size);
    }
    token = page.truncated ? page.next_token : "";
  } while (!token.empty());
}

std::unique_ptr<Backend> open_s3_backend(const std::string& url) {
  S3Url parsed = parse_s3_url(url);
  S3Credentials credentials{environment("AWS_ACCESS_KEY_ID"), environment("AWS_SECRET_ACCESS_KEY"), ""};
  if (credentials.access_key.empty() || credentials.secret_key.empty())
    throw Error("no S3 credentials for " + url + ": set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
  credentials.region = environment("AWS_REGION");
  if (credentials.region.empty()) credentials.region = environment("AWS_DEFAULT_REGION");
  if (credentials.region.empty()) credentials.region = "us-east-1";
  auto backend =
      std::make_unique<S3Backend>(url, std::move(parsed), std::move(credentials), environment("AWS_CA_BUNDLE"));
  // For tests: small pages make a small repository's listings follow continuation tokens.
  if (std::string pages = environment("OBKEEP_S3_LIST_PAGE_SIZE"); !pages.empty())
    backend->set_list_page_size(std::atoi(pages.c_str()));
  return backend;
}

}  // namespace obkeep::storage
