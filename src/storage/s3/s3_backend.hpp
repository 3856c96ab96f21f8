// A repository under a prefix of an S3 bucket (path-style requests, SigV4).
#pragma once

#include <memory>
#include <string>

#include "storage/backend.hpp"
#include "storage/s3/s3_client.hpp"

namespace obkeep::storage {

// Keys mirror the local layout under the prefix: config, keys/<id>,
// data/<first two hex digits>/<id>, index/<id>, snapshots/<id>, locks/<id>.
// A save is one PUT, which S3 makes visible whole or not at all, so there are no
// temporaries to clean up.
class S3Backend : public Backend {
 public:
  S3Backend(std::string location, S3Url url, S3Credentials credentials, std::string ca_file);

  std::string location() const override { return location_; }
  void create() override;
  void save(const Handle& handle, ByteView data) override;
  Bytes load(const Handle& handle, uint64_t offset, uint64_t length) override;
  std::optional<uint64_t> stat(const Handle& handle) override;
  void remove(const Handle& handle) override;
  void list(FileType type, const std::function<void(const std::string&, uint64_t)>& visit) override;

  std::string key_of(const Handle& handle) const;
  // Objects per ListObjectsV2 page; 0 leaves it to the server (1,000 on S3).
  void set_list_page_size(int size) { list_page_size_ = size; }

 private:
  // "s3://host:port/bucket/key", how messages name an object.
  std::string url_of(const std::string& key) const;
  std::string under_prefix(const std::string& relative) const;
  // Sends the request; a failed HEAD (which has no body) is repeated as a GET so the
  // error names the S3 error code.
  S3Response send(const S3Request& request);
  [[noreturn]] void fail(const std::string& action, const std::string& key, const S3Response& response) const;
  void create_bucket();

  std::string location_;
  S3Client client_;
  int list_page_size_ = 0;
};

// Opens the s3:// or s3+http:// URL with credentials from AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY, the region from AWS_REGION / AWS_DEFAULT_REGION (default
// us-east-1) and the CA certificates from AWS_CA_BUNDLE when set.
std::unique_ptr<Backend> open_s3_backend(const std::string& url);

}  // namespace obkeep::storage
