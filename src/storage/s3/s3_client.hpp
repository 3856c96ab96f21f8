// Signed HTTP requests to one S3 bucket over libcurl, safe to call from many threads.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <semaphore>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "storage/s3/s3_url.hpp"
#include "storage/s3/sigv4.hpp"
#include "util/bytes.hpp"

namespace obkeep::storage {

struct S3Request {
  std::string method;  // GET, HEAD, PUT, POST, DELETE
  std::string key;     // object key; empty for the bucket itself
  std::vector<std::pair<std::string, std::string>> query;
  std::map<std::string, std::string> headers;  // lower-case names, e.g. {"range", "bytes=0-9"}
  ByteView body;
  size_t expected_size = 0;  // reserves the response buffer
  // Where the body of a 206 (Partial Content) answer goes instead of S3Response::body, so a
  // ranged read lands in its caller's buffer without a copy. Other answers (errors, a 200
  // from a server that ignored the range) still go to S3Response::body.
  std::span<uint8_t> into = {};
};

struct S3Response {
  long status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  Bytes body;
  int attempts = 1;  // how many times it was sent: more than one after retried failures
  // Bytes of a 206 answer's body (those beyond into.size() counted but dropped).
  uint64_t received_into = 0;
};

// Requests in flight per backend unless the URL or OBKEEP_S3_CONNECTIONS says otherwise.
// Sixteen: at a round trip of 80 ms a restore of 221 MB took 1.33 s instead of 1.47 s with
// eight, and was level with eight at 0 and 20 ms (docs/benchmarks.md).
constexpr unsigned default_s3_connections = 16;

// Each request takes a curl easy handle from a pool and returns it afterwards: a
// handle (and its kept-alive connection) is used by one thread at a time. At most
// `url.connections` (default_s3_connections when 0) attempts are in flight at once; more
// callers wait for a slot, so any number of threads may call perform.
class S3Client {
 public:
  S3Client(S3Url url, S3Credentials credentials, std::string ca_file);
  ~S3Client();
  S3Client(const S3Client&) = delete;
  S3Client& operator=(const S3Client&) = delete;

  // Sends the request, retrying connection failures and 5xx answers a few times
  // with backoff. Returns any HTTP answer; throws Error when the server cannot be
  // reached (ExitCode::no_repository if it never answered this client), and
  // Error(ExitCode::interrupted) when SIGINT/SIGTERM arrives while it is under way.
  S3Response perform(const S3Request& request);

  const S3Url& url() const { return url_; }
  const std::string& region() const { return credentials_.region; }
  unsigned connections() const { return connections_; }

 private:
  void* acquire_handle();
  void release_handle(void* handle);
  // One attempt; returns the curl result code and fills `response` / `error`.
  int attempt(void* handle, const S3Request& request, S3Response& response, std::string& error,
              bool started_interrupted);

  S3Url url_;
  S3Credentials credentials_;
  std::string ca_file_;
  unsigned connections_;
  std::counting_semaphore<> slots_;  // one a request in flight; held for an attempt, not across backoff
  std::mutex mutex_;
  std::vector<void*> idle_handles_;
  std::atomic<bool> answered_{false};
};

}  // namespace obkeep::storage
