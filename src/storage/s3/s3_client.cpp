// Signed HTTP requests to one S3 bucket over libcurl, with a pool of easy handles.
#include "storage/s3/s3_client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <thread>

#include "crypto/hash.hpp"
#include "util/error.hpp"
#include "util/interrupt.hpp"
#include "util/text.hpp"

namespace obkeep::storage {

namespace {

constexpr int max_attempts = 4;

// curl_global_init is not thread-safe; it runs once, before the first handle.
void initialise_curl() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) throw Error("cannot initialise libcurl");
  });
}

struct UploadState {
  ByteView body;
  size_t sent = 0;
};

size_t read_body(char* buffer, size_t size, size_t count, void* user) {
  auto* state = static_cast<UploadState*>(user);
  size_t n = std::min(size * count, state->body.size() - state->sent);
  std::memcpy(buffer, state->body.data() + state->sent, n);
  state->sent += n;
  return n;
}

// libcurl rewinds the body when it resends a request by itself, e.g. after a kept-alive
// connection died under it; without this it fails with CURLE_SEND_FAIL_REWIND instead.
int seek_body(void* user, curl_off_t offset, int origin) {
  auto* state = static_cast<UploadState*>(user);
  if (origin != SEEK_SET || offset < 0 || static_cast<size_t>(offset) > state->body.size()) return CURL_SEEKFUNC_FAIL;
  state->sent = static_cast<size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

// Called by libcurl about once a second, also while a transfer stalls: a request that was
// under way when SIGINT/SIGTERM arrived stops now instead of waiting out the stall timeout
// (up to a minute an attempt). Requests begun after the signal (removing the lock) run on.
int abort_if_interrupted(void* started_interrupted, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return !*static_cast<bool*>(started_interrupted) && interrupted() ? 1 : 0;
}

struct DownloadState {
  CURL* handle;
  Bytes& body;
  std::span<uint8_t> into;  // for a 206 answer's body, when not empty
  uint64_t& received_into;
};

size_t write_body(char* data, size_t size, size_t count, void* user) {
  auto* state = static_cast<DownloadState*>(user);
  size_t n = size * count;
  long status = 0;
  curl_easy_getinfo(state->handle, CURLINFO_RESPONSE_CODE, &status);
  if (status == 206 && !state->into.empty()) {
    // A longer answer than asked for is counted, not stored: the caller reports it.
    uint64_t room = state->into.size() - std::min<uint64_t>(state->received_into, state->into.size());
    std::memcpy(state->into.data() + (state->into.size() - room), data, std::min<uint64_t>(room, n));
    state->received_into += n;
    return n;
  }
  state->body.insert(state->body.end(), reinterpret_cast<uint8_t*>(data), reinterpret_cast<uint8_t*>(data) + n);
  return n;
}

size_t write_header(char* data, size_t size, size_t count, void* user) {
  auto* headers = static_cast<std::map<std::string, std::string>*>(user);
  std::string line(data, size * count);
  size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = ascii_lower(line.substr(0, colon));
    size_t start = line.find_first_not_of(" \t", colon + 1);
    size_t end = line.find_last_not_of(" \t\r\n");
    (*headers)[name] = start == std::string::npos || end < start ? "" : line.substr(start, end - start + 1);
  }
  return size * count;
}

bool transient(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SEND_FAIL_REWIND:  // each attempt sends the body from its start again
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM: return true;
    default: return false;
  }
}

// 501 Not Implemented is the store's lasting answer (an S3 feature it lacks), not a hiccup.
bool transient(long status) { return (status >= 500 && status != 501) || status == 429; }

// Gives a request slot back on every way out of an attempt.
struct SlotRelease {
  std::counting_semaphore<>& slots;
  ~SlotRelease() { slots.release(); }
};

}  // namespace

S3Client::S3Client(S3Url url, S3Credentials credentials, std::string ca_file)
    : url_(std::move(url)),
      credentials_(std::move(credentials)),
      ca_file_(std::move(ca_file)),
      connections_(url_.connections ? url_.connections : default_s3_connections),
      slots_(static_cast<std::ptrdiff_t>(connections_)) {
  initialise_curl();
}

S3Client::~S3Client() {
  for (void* handle : idle_handles_) curl_easy_cleanup(static_cast<CURL*>(handle));
}

void* S3Client::acquire_handle() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_handles_.empty()) {
      void* handle = idle_handles_.back();
      idle_handles_.pop_back();
      return handle;
    }
  }
  CURL* handle = curl_easy_init();
  if (!handle) throw Error("cannot create a libcurl handle");
  return handle;
}

void S3Client::release_handle(void* handle) {
  std::lock_guard lock(mutex_);
  idle_handles_.push_back(handle);
}

S3Response S3Client::perform(const S3Request& request) {
  void* handle = acquire_handle();
  std::string error;
  S3Response response;
  int attempt_number = 1;
  bool started_interrupted = signal_received();
  try {
    for (;; ++attempt_number) {
      response = S3Response{};
      int code;
      {
        // A slot is held for the attempt only: a request waiting out its backoff leaves
        // the connection to another caller.
        slots_.acquire();
        SlotRelease release{slots_};
        code = attempt(handle, request, response, error, started_interrupted);
      }
      bool retry = code != CURLE_OK ? transient(static_cast<CURLcode>(code)) : transient(response.status);
      // A failure after SIGINT/SIGTERM is not retried (the handle goes back in the catch below).
      if ((code != CURLE_OK || retry) && !started_interrupted && interrupted())
        throw Error("interrupted", ExitCode::interrupted);
      if (code == CURLE_OK) answered_ = true;
      // After a signal, cleanup (removing the lock) is one short attempt: a lock left behind
      // goes stale, and the user who pressed Ctrl-C is not kept waiting for minutes.
      if (!retry || attempt_number == max_attempts || started_interrupted) {
        release_handle(handle);
        response.attempts = attempt_number;
        if (code == CURLE_OK) return response;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100 << attempt_number));
    }
  } catch (...) {
    release_handle(handle);
    throw;
  }
  ExitCode exit_code = answered_ ? ExitCode::error : ExitCode::no_repository;
  // Names the request too: a transfer that breaks mid-backup says which object it was moving.
  std::string what = request.method + " " + (request.key.empty() ? "the bucket" : request.key);
  throw Error("cannot reach S3 endpoint " + url_.endpoint() + " (bucket " + url_.bucket + ") to " + what +
                  (attempt_number > 1 ? " after " + std::to_string(attempt_number) + " attempts" : "") + ": " + error,
              exit_code);
}

int S3Client::attempt(void* opaque, const S3Request& request, S3Response& response, std::string& error,
                      bool started_interrupted) {
  CURL* handle = static_cast<CURL*>(opaque);
  curl_easy_reset(handle);  // keeps the connection, clears the last request's options
  std::string path = "/" + url_.bucket + (request.key.empty() ? "" : "/" + uri_encode(request.key, true));
  std::string query = canonical_query(request.query);
  std::string address = url_.endpoint() + path + (query.empty() ? "" : "?" + query);

  SigningInput signing{request.method, path, request.query, request.headers, "", std::time(nullptr)};
  // The payload is signed (not UNSIGNED-PAYLOAD): the server then rejects a body damaged in transit.
  signing.payload_sha256 = crypto::sha256(request.body).hex();
  signing.headers["host"] = url_.authority();
  signing.headers["x-amz-date"] = amz_date(signing.time);
  signing.headers["x-amz-content-sha256"] = signing.payload_sha256;
  std::string authorization = sign_v4(credentials_, signing);

  curl_slist* headers = nullptr;
  for (const auto& [name, value] : signing.headers) headers = curl_slist_append(headers, (name + ": " + value).c_str());
  headers = curl_slist_append(headers, ("Authorization: " + authorization).c_str());
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip before a PUT

  UploadState upload{request.body, 0};
  char error_buffer[CURL_ERROR_SIZE] = "";
  if (request.into.empty()) response.body.reserve(request.expected_size);
  DownloadState download{handle, response.body, request.into, response.received_into};
  curl_easy_setopt(handle, CURLOPT_URL, address.c_str());
  curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT, 10L);
  // A stalled transfer (under 1 KiB/s for a minute) fails and is retried, instead of hanging.
  curl_easy_setopt(handle, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(handle, CURLOPT_LOW_SPEED_TIME, started_interrupted ? 10L : 60L);
  curl_easy_setopt(handle, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, abort_if_interrupted);
  curl_easy_setopt(handle, CURLOPT_XFERINFODATA, &started_interrupted);
  if (!ca_file_.empty()) curl_easy_setopt(handle, CURLOPT_CAINFO, ca_file_.c_str());
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, write_body);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &download);
  curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, write_header);
  curl_easy_setopt(handle, CURLOPT_HEADERDATA, &response.headers);
  if (request.method == "HEAD") {
    curl_easy_setopt(handle, CURLOPT_NOBODY, 1L);
  } else if (request.method == "PUT" || request.method == "POST") {
    // A POST (multipart upload start and completion) sends its body as an upload does.
    curl_easy_setopt(handle, CURLOPT_UPLOAD, 1L);
    if (request.method == "POST") curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, "POST");
    curl_easy_setopt(handle, CURLOPT_READFUNCTION, read_body);
    curl_easy_setopt(handle, CURLOPT_READDATA, &upload);
    curl_easy_setopt(handle, CURLOPT_SEEKFUNCTION, seek_body);
    curl_easy_setopt(handle, CURLOPT_SEEKDATA, &upload);
    curl_easy_setopt(handle, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  } else if (request.method != "GET") {
    curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  CURLcode code = curl_easy_perform(handle);
  // The handle outlives this call in the pool: it must not keep pointers into this frame.
  curl_easy_setopt(handle, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, nullptr);
  curl_slist_free_all(headers);
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &response.status);
  if (code != CURLE_OK) error = *error_buffer ? error_buffer : curl_easy_strerror(code);
  return code;
}

}  // namespace obkeep::storage
