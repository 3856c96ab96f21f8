// A repository under a prefix of an S3 bucket.
#include "storage/s3/s3_backend.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "storage/read_buffer.hpp"
#include "util/parallel_tasks.hpp"
#include "storage/s3/s3_pieces.hpp"
#include "storage/s3/s3_xml.hpp"
#include "util/error.hpp"
#include "util/host.hpp"
#include "util/interrupt.hpp"

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
    case FileType::copy_record: return "copies/";
    case FileType::journal: return "journal/";
    case FileType::archive: return "archive/";
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

// A whole number from the environment within [low, high]; 0 when unset.
unsigned long setting(const char* name, unsigned long low, unsigned long high) {
  std::string text = environment(name);
  if (text.empty()) return 0;
  char* end = nullptr;
  unsigned long value = std::strtoul(text.c_str(), &end, 10);
  if (*end != '\0' || value < low || value > high)
    throw Error("invalid " + std::string(name) + " '" + text + "': want " + std::to_string(low) + " to " +
                    std::to_string(high),
                ExitCode::usage);
  return value;
}

// The connections knob: ?connections=N on the URL, else OBKEEP_S3_CONNECTIONS, else the default.
unsigned connections_from_environment() {
  return static_cast<unsigned>(setting("OBKEEP_S3_CONNECTIONS", 1, max_s3_connections));
}

}  // namespace

S3Backend::S3Backend(std::string location, S3Url url, S3Credentials credentials, std::string ca_file)
    : location_(std::move(location)),
      client_(std::move(url), std::move(credentials), std::move(ca_file)),
      object_lock_(client_.url().object_lock) {
  if (unsigned long mib = setting("OBKEEP_S3_MULTIPART_MIB", min_part_size >> 20, 5 * 1024))
    multipart_threshold_ = mib << 20;
}

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

bool S3Backend::create_bucket() {
  S3Response head = send({"HEAD", "", {}, {}, {}, 0});
  if (head.status == 200) return false;
  if (head.status != 404) fail("check bucket", "", head);
  // Outside us-east-1, S3 wants the region named in the body of a bucket creation.
  std::string body;
  if (client_.region() != "us-east-1")
    body = "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>" +
           client_.region() + "</LocationConstraint></CreateBucketConfiguration>";
  S3Request request{"PUT", "", {}, {}, as_bytes(body), 0};
  // Object Lock can only be turned on when a bucket is made (it turns versioning on too).
  if (object_lock_.enabled()) request.headers["x-amz-bucket-object-lock-enabled"] = "true";
  S3Response created = send(request);
  if (created.status == 200) return true;
  if (s3_error_code(created.body) == "BucketAlreadyOwnedByYou") return false;
  fail("create bucket", "", created);
}

BucketObjectLock S3Backend::bucket_object_lock() {
  std::lock_guard guard(bucket_lock_mutex_);
  if (bucket_lock_) return *bucket_lock_;
  S3Response response = send({"GET", "", {{"object-lock", ""}}, {}, {}, 0});
  std::optional<BucketObjectLock> read = read_bucket_object_lock(response.status, response.body);
  if (!read) {
    std::string code = s3_error_code(response.body);
    read = BucketObjectLock{BucketObjectLock::State::unknown,
                            "HTTP " + std::to_string(response.status) + (code.empty() ? "" : " " + code)};
  }
  bucket_lock_ = read;
  return *read;
}

void S3Backend::require_object_lock(bool bucket_just_created) {
  BucketObjectLock bucket = bucket_object_lock();
  std::string where = url_of("") + ": ";
  std::string asked = "; object_lock_days cannot be honoured";
  switch (bucket.state) {
    case BucketObjectLock::State::enabled: return;
    case BucketObjectLock::State::unsupported:
      throw Error(where + "the store does not support S3 Object Lock (GetObjectLockConfiguration: " + bucket.evidence +
                  ")" + asked);
    case BucketObjectLock::State::disabled:
      if (bucket_just_created)  // the store took the bucket and ignored the request for Object Lock
        throw Error(where + "the store does not support S3 Object Lock (it made the bucket without it: " +
                    bucket.evidence + ")" + asked);
      throw Error(where + "the bucket was made without S3 Object Lock (GetObjectLockConfiguration: " + bucket.evidence +
                  "), which cannot be turned on later" + asked + " here: use a new bucket");
    case BucketObjectLock::State::unknown:
      throw Error(where + "cannot read the bucket's S3 Object Lock configuration (GetObjectLockConfiguration: " +
                  bucket.evidence + ")" + asked);
  }
}

bool S3Backend::may_retain() {
  BucketObjectLock::State state = bucket_object_lock().state;
  return state == BucketObjectLock::State::enabled || state == BucketObjectLock::State::unknown;
}

// The bucket check and the config's stat side by side: at a far site each is a round trip
// (a missing bucket has no config either).
void S3Backend::create() {
  bool created = false, config_exists = false;
  run_parallel(2, 2, [&](size_t i) {
    if (i == 0)
      created = create_bucket();
    else
      config_exists = stat(Handle{FileType::config, "config"}).has_value();
  });
  if (object_lock_.enabled()) require_object_lock(created);
  if (config_exists) throw Error("a repository already exists at " + location_);
}

void S3Backend::save(const Handle& handle, ByteView data) {
  // Removing a lock first asks whether the bucket may retain objects (one round trip, once):
  // asked beside the lock's save, the command's last request no longer waits for it.
  if (handle.type == FileType::lock && !bucket_object_lock_known()) {
    run_parallel(2, 2, [&](size_t i) {
      if (i == 0) return save_object(handle, data);
      try {
        bucket_object_lock();
      } catch (const Error&) {
        // Asked again when a remove needs it, which reports the failure.
      }
    });
    return;
  }
  save_object(handle, data);
}

bool S3Backend::bucket_object_lock_known() {
  std::lock_guard guard(bucket_lock_mutex_);
  return bucket_lock_.has_value();
}

void S3Backend::save_object(const Handle& handle, ByteView data) {
  std::string key = key_of(handle);
  // Locks stay deletable: a retained lock would block every later exclusive operation.
  bool retain = object_lock_.enabled() && handle.type != FileType::lock;
  if (retain) require_object_lock(false);
  if (data.size() > multipart_threshold_ && client_.connections() > 1) return save_multipart(key, data, retain);
  S3Request request{"PUT", key, {}, {}, data, 0};
  if (retain) {
    add_retention_headers(request.headers, object_lock_, std::time(nullptr));
    request.headers["content-md5"] = content_md5(data);
  }
  S3Response response = send(request);
  if (response.status != 200) fail("save", key, response);
}

// The object appears only when CompleteMultipartUpload succeeds; until then (and for
// ever, if it never does) its parts are invisible, so the save stays atomic.
void S3Backend::save_multipart(const std::string& key, ByteView data, bool retain) {
  std::time_t now = std::time(nullptr);
  S3Request create{"POST", key, {{"uploads", ""}}, {}, {}, 0};
  if (retain) add_retention_headers(create.headers, object_lock_, now);
  S3Response created = send(create);
  if (created.status != 200) fail("save", key, created);
  std::string upload_id = parse_upload_id(created.body, url_of(key));
  std::vector<Piece> parts = split_into_pieces(data.size(), min_part_size, max_parts);
  std::vector<std::string> etags(parts.size());
  try {
    // Each part is retried by the client like any request; the first that fails for good
    // stops the others from starting.
    run_parallel(parts.size(), client_.connections(), [&](size_t i) {
      std::string number = std::to_string(i + 1);
      S3Request request{"PUT", key, {{"partNumber", number}, {"uploadId", upload_id}}, {},
                        data.subspan(parts[i].offset, parts[i].length), 0};
      if (retain) request.headers["content-md5"] = content_md5(request.body);
      S3Response response = send(request);
      if (response.status != 200) fail("save", key, response);
      auto etag = response.headers.find("etag");
      if (etag == response.headers.end() || etag->second.empty())
        throw Error("cannot save " + url_of(key) + ": S3 gave no ETag for part " + number);
      etags[i] = etag->second;
    });
    std::string parts_list = complete_multipart_body(etags);
    S3Response completed = send({"POST", key, {{"uploadId", upload_id}}, {}, as_bytes(parts_list), 0});
    // S3 may answer 200 and still report an error in the body (it starts the answer early
    // to keep the connection alive while it assembles the object).
    std::string code = s3_error_code(completed.body);
    if (completed.status == 200 && code.empty()) {
      if (retain) set_retention(key, completed.headers["x-amz-version-id"], now);
      return;
    }
    // A retried completion whose first answer was lost: the object is there, whole.
    if (completed.attempts > 1 && code == "NoSuchUpload") {
      S3Response head = send({"HEAD", key, {}, {}, {}, 0});
      auto length = head.headers.find("content-length");
      if (head.status == 200 && length != head.headers.end() && length->second == std::to_string(data.size())) {
        if (retain) set_retention(key, head.headers["x-amz-version-id"], now);
        return;
      }
    }
    if (completed.status == 200)
      throw Error("cannot save " + url_of(key) + ": S3 did not complete the multipart upload: " + code);
    fail("save", key, completed);
  } catch (...) {
    abort_multipart(key, upload_id);
    throw;
  }
}

void S3Backend::set_retention(const std::string& key, const std::string& version_id, std::time_t now) {
  std::string body = retention_body(object_lock_, now);
  S3Request request{"PUT", key, {{"retention", ""}}, {}, as_bytes(body), 0};
  if (!version_id.empty() && version_id != "null") request.query.emplace_back("versionId", version_id);
  request.headers["content-md5"] = content_md5(as_bytes(body));
  S3Response response = send(request);
  if (response.status != 200) fail("set the retention of", key, response);
}

void S3Backend::abort_multipart(const std::string& key, const std::string& upload_id) {
  // After SIGINT/SIGTERM the user waits for the exit, and over a silent network the abort
  // would take its full stall timeout: the upload is left to prune (remove_temporaries).
  if (interrupted()) return;
  try {
    send({"DELETE", key, {{"uploadId", upload_id}}, {}, {}, 0});
  } catch (const Error&) {
    // The save's own error is the one to report; prune's remove_temporaries retries this.
  }
}

void S3Backend::short_object(const std::string& key, uint64_t offset, uint64_t length, const std::string& got) const {
  throw Error("short object " + url_of(key) + ": wanted " + std::to_string(length) + " bytes at " +
              std::to_string(offset) + ", " + got);
}

void S3Backend::read_range(const std::string& key, uint64_t offset, std::span<uint8_t> out, uint64_t whole_offset,
                           uint64_t whole_length) {
  S3Request request{"GET", key, {}, {}, {}, 0, out};
  request.headers["range"] = "bytes=" + std::to_string(offset) + "-" + std::to_string(offset + out.size() - 1);
  S3Response response = send(request);
  if (response.status == 416) short_object(key, whole_offset, whole_length, "beyond its end");
  if (response.status == 404) throw Error("missing object " + url_of(key));
  if (response.status != 200 && response.status != 206) fail("load", key, response);
  if (response.status == 200) {
    // A server that ignores Range answers 200 with the whole object.
    if (response.body.size() < offset + out.size())
      short_object(key, whole_offset, whole_length, "the object has " + std::to_string(response.body.size()));
    std::memcpy(out.data(), response.body.data() + offset, out.size());
    return;
  }
  if (response.received_into != out.size())
    short_object(key, whole_offset, whole_length,
                 "got " + std::to_string(response.received_into) + " at " + std::to_string(offset));
}

// Over a link with latency one GET is bound by its round trips and TCP window, not by the
// bandwidth; a few ranges at once fill the link.
// Split only across the connections other reads leave idle: a restore's read-ahead already
// has many ranges in flight, and splitting them would only multiply requests.
void S3Backend::read_into(const std::string& key, uint64_t offset, std::span<uint8_t> out) {
  struct Reading {
    std::atomic<unsigned>& reads;
    unsigned others = reads++;
    ~Reading() { --reads; }
  } reading{reads_};
  unsigned idle = client_.connections() / (reading.others + 1);
  if (out.size() <= parallel_read_threshold || idle <= 1) return read_range(key, offset, out, offset, out.size());
  std::vector<Piece> ranges = split_into_pieces(out.size(), min_read_range, idle);
  run_parallel(ranges.size(), client_.connections(), [&](size_t i) {
    read_range(key, offset + ranges[i].offset, out.subspan(ranges[i].offset, ranges[i].length), offset, out.size());
  });
}

Bytes S3Backend::load(const Handle& handle, uint64_t offset, uint64_t length) {
  std::string key = key_of(handle);
  if (length > 0) {
    Bytes data(length);
    read_into(key, offset, data);
    return data;
  }
  // To the end: the size is not known, so one request.
  S3Request request{"GET", key, {}, {}, {}, 0};
  if (offset > 0) request.headers["range"] = "bytes=" + std::to_string(offset) + "-";
  S3Response response = send(request);
  if (response.status == 416) short_object(key, offset, length, "beyond its end");
  if (response.status == 404) throw Error("missing object " + url_of(key));
  if (response.status != 200 && response.status != 206) fail("load", key, response);
  // A server that ignores Range answers 200 with the whole object.
  if (offset > 0 && response.status == 200) {
    if (offset > response.body.size()) short_object(key, offset, length, "beyond its end");
    response.body.erase(response.body.begin(), response.body.begin() + static_cast<ptrdiff_t>(offset));
  }
  return std::move(response.body);
}

std::optional<Bytes> S3Backend::load_if_present(const Handle& handle) {
  std::string key = key_of(handle);
  S3Response response = send({"GET", key, {}, {}, {}, 0});
  if (response.status == 404) return std::nullopt;
  if (response.status != 200) fail("load", key, response);
  return std::move(response.body);
}

// Into this thread's reusable buffer: no allocation, and the bytes are copied once, from
// libcurl into the buffer.
void S3Backend::read(const Handle& handle, uint64_t offset, uint64_t length, const std::function<void(ByteView)>& use) {
  if (length == 0) return Backend::read(handle, offset, length, use);
  std::span<uint8_t> buffer(thread_read_buffer(length), length);
  read_into(key_of(handle), offset, buffer);
  use(buffer);
}

void S3Backend::read_into(const Handle& handle, uint64_t offset, std::span<uint8_t> out) {
  if (out.empty()) return;
  read_into(key_of(handle), offset, out);
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

std::optional<S3Backend::StoredVersion> S3Backend::stored_version(const std::string& key) {
  S3Response response = send({"HEAD", key, {}, {}, {}, 0});
  if (response.status == 404) return std::nullopt;
  if (response.status != 200) fail("stat", key, response);
  StoredVersion version;
  if (auto id = response.headers.find("x-amz-version-id"); id != response.headers.end() && id->second != "null")
    version.version_id = id->second;
  if (auto until = response.headers.find("x-amz-object-lock-retain-until-date"); until != response.headers.end())
    version.retained_until = parse_rfc3339(until->second);
  // A legal hold keeps the object until someone lifts it, whatever its date.
  auto hold = response.headers.find("x-amz-object-lock-legal-hold");
  if (hold != response.headers.end() && hold->second == "ON") version.retained_until = INT64_MAX;
  return version;
}

std::optional<int64_t> S3Backend::retained_until(const Handle& handle) {
  if (!may_retain()) return std::nullopt;  // no request per object where nothing can be retained
  std::optional<StoredVersion> version = stored_version(key_of(handle));
  if (!version || !version->retained_until || *version->retained_until <= now_unix_nanos()) return std::nullopt;
  return version->retained_until;
}

void S3Backend::remove(const Handle& handle) {
  std::string key = key_of(handle);
  S3Request request{"DELETE", key, {}, {}, {}, 0};
  if (may_retain()) {
    std::optional<StoredVersion> version = stored_version(key);
    if (!version) return;
    if (version->retained_until && *version->retained_until > now_unix_nanos())
      throw Error("cannot remove " + url_of(key) + ": it is under S3 Object Lock retention until " +
                  retention_end(*version->retained_until));
    // The version itself: a plain DELETE would leave it stored behind a delete marker.
    if (!version->version_id.empty()) request.query = {{"versionId", version->version_id}};
  }
  S3Response response = send(request);
  if (response.status != 204 && response.status != 200 && response.status != 404) fail("remove", key, response);
}

std::string S3Backend::protection() {
  BucketObjectLock bucket = bucket_object_lock();
  using State = BucketObjectLock::State;
  if (!object_lock_.enabled()) {
    if (bucket.state == State::enabled) return "object lock: enabled on the bucket, but no object_lock_days: none";
    if (bucket.state == State::unsupported) return "none (the store does not support S3 Object Lock)";
    return "none";
  }
  std::string asked = "; object_lock_days = " + std::to_string(object_lock_.days) + " is not honoured";
  switch (bucket.state) {
    case State::enabled: return "object lock: " + object_lock_.describe();
    case State::unsupported:
      return "object lock: not supported by the store (GetObjectLockConfiguration: " + bucket.evidence + ")" + asked;
    case State::disabled:
      return "object lock: not enabled on the bucket (GetObjectLockConfiguration: " + bucket.evidence + ")" + asked;
    case State::unknown: break;
  }
  return "object lock: " + object_lock_.describe() + " asked, but the bucket's configuration cannot be read (" +
         bucket.evidence + ")";
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

bool S3Backend::is_repository_key(const std::string& key) const {
  std::string name = key.substr(key.rfind('/') + 1);
  for (FileType type :
       {FileType::config, FileType::key, FileType::pack, FileType::index, FileType::snapshot, FileType::lock,
        FileType::copy_record, FileType::journal, FileType::archive}) {
    Handle handle{type, name};
    if (valid_name(handle) && key_of(handle) == key) return true;
  }
  return false;
}

size_t S3Backend::remove_temporaries() {
  std::string prefix = under_prefix("");
  std::vector<std::pair<std::string, std::string>> unfinished;  // key, upload id
  std::string key_marker, upload_id_marker;
  do {
    S3Request request{"GET", "", {{"uploads", ""}, {"prefix", prefix}}, {}, {}, 0};
    if (!key_marker.empty()) request.query.emplace_back("key-marker", key_marker);
    if (!upload_id_marker.empty()) request.query.emplace_back("upload-id-marker", upload_id_marker);
    S3Response response = send(request);
    // A store without ListMultipartUploads has no unfinished uploads to show: prune goes on.
    if (response.status == 501 || s3_error_code(response.body) == "NotImplemented") break;
    if (response.status != 200) fail("list the multipart uploads under", prefix, response);
    UploadsPage page = parse_uploads_page(response.body, url_of(prefix));
    for (auto& upload : page.uploads)
      if (is_repository_key(upload.first)) unfinished.push_back(std::move(upload));
    key_marker = page.truncated ? page.next_key_marker : "";
    upload_id_marker = page.truncated ? page.next_upload_id_marker : "";
  } while (!key_marker.empty());
  for (const auto& [key, upload_id] : unfinished) {
    S3Response response = send({"DELETE", key, {{"uploadId", upload_id}}, {}, {}, 0});
    if (response.status != 204 && response.status != 200 && response.status != 404)
      fail("abort the multipart upload of", key, response);
  }
  return unfinished.size();
}

std::unique_ptr<Backend> open_s3_backend(const std::string& url) {
  S3Url parsed = parse_s3_url(url);
  if (parsed.connections == 0) parsed.connections = connections_from_environment();
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
