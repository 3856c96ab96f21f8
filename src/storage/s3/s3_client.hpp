// Signed HTTP requests to one S3 bucket over libcurl, safe to call from many threads.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "storage/s3/s3_url.hpp"
#include "storage/s3/sigv4.hpp"
#include "util/bytes.hpp"

namespace obkeep::storage {

struct S3Request {
  std::string method;  // GET, HEAD, PUT, DELETE
  std::string key;     // object key; empty for the bucket itself
  std::vector<std::pair<std::string, std::string>> query;
  std::map<std::string, std::string> headers;  // lower-case names, e.g. {"range", "bytes=0-9"}
  ByteView body;
  size_t expected_size = 0;  // reserves the response buffer
};

struct S3Response {
  long status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  Bytes body;
  int attempts = 1;  // how many times it was sent: more than one after retried failures
};

// Each request takes a curl easy handle from a pool and returns it afterwards: a
// handle (and its kept-alive connection) is used by one thread at a time, and
// concurrent requests open as many handles as they need.
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

 private:
  void* acquire_handle();
  void release_handle(void* handle);
  // One attempt; returns the curl result code and fills `response` / `error`.
  int attempt(void* handle, const S3Request& request, S3Response& response, std::string& error,
              bool started_interrupted);

  S3Url url_;
  S3Credentials credentials_;
  std::string ca_file_;
  std::mutex mutex_;
  std::vector<void*> idle_handles_;
  std::atomic<bool> answered_{false};
};

}  // namespace obkeep::storage
