// A repository under a prefix of an S3 bucket (path-style requests, SigV4).
#pragma once

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>

#include "storage/backend.hpp"
#include "storage/s3/object_lock.hpp"
#include "storage/s3/s3_client.hpp"

namespace obkeep::storage {

// Keys mirror the local layout under the prefix: config, keys/<id>,
// data/<first two hex digits>/<id>, index/<id>, snapshots/<id>, locks/<id>.
// A save is one PUT, or above multipart_threshold a multipart upload whose parts go at
// once; S3 makes either visible whole or not at all. A read above parallel_read_threshold
// is fetched as a few ranges at once, on the connections other reads leave idle. Up to the client's connections() requests are in
// flight; with one, every object is one request as before.
//
// With object lock asked for (the URL's object_lock_days), every object but locks is written
// with a retention date, and nothing is written unless the bucket has Object Lock enabled.
// In a bucket that has it (asked for or not), objects are versioned: a remove deletes the
// current version by its id (a plain DELETE would only hide it behind a delete marker, and
// a retained object would seem gone), and refuses while the version is under retention.
class S3Backend : public Backend {
 public:
  // Above a full pack (see design.md); OBKEEP_S3_MULTIPART_MIB sets another.
  static constexpr uint64_t default_multipart_threshold = 32 * 1024 * 1024;
  static constexpr uint64_t min_part_size = 5 * 1024 * 1024;  // S3's minimum, but for the last part
  static constexpr uint64_t max_parts = 10000;                // S3's maximum
  static constexpr uint64_t parallel_read_threshold = 8 * 1024 * 1024;
  static constexpr uint64_t min_read_range = 4 * 1024 * 1024;

  S3Backend(std::string location, S3Url url, S3Credentials credentials, std::string ca_file);

  std::string location() const override { return location_; }
  void create() override;
  void save(const Handle& handle, ByteView data) override;
  Bytes load(const Handle& handle, uint64_t offset, uint64_t length) override;
  void read(const Handle& handle, uint64_t offset, uint64_t length, const std::function<void(ByteView)>& use) override;
  void read_into(const Handle& handle, uint64_t offset, std::span<uint8_t> out) override;
  std::optional<Bytes> load_if_present(const Handle& handle) override;
  std::optional<uint64_t> stat(const Handle& handle) override;
  void remove(const Handle& handle) override;
  void list(FileType type, const std::function<void(const std::string&, uint64_t)>& visit) override;
  // Aborts the multipart uploads under the prefix that never completed (a backup killed
  // mid-upload leaves them: invisible, but stored and paid for).
  size_t remove_temporaries() override;
  // Half the connections: a save over multipart_threshold sends its parts in parallel, and
  // restores read ahead with four fetchers per save. (All connections for packs, each one
  // PUT, measured no faster across 80 ms and held twice the memory.)
  size_t background_saves() const override { return std::max(1u, connections() / 2); }
  // A ranged GET is a round trip and a request the store answers: measured on the ~1 GB
  // tree at RTT 80 ms, 4 MiB restored in 3.3–3.4 s instead of 3.7–4.0 s (fetching 20% more).
  uint64_t read_gap() const override { return 4 * 1024 * 1024; }
  std::optional<int64_t> retained_until(const Handle& handle) override;
  // "object lock: compliance, 30 days", or what stands in its way.
  std::string protection() override;

  std::string key_of(const Handle& handle) const;
  // Requests in flight at most.
  unsigned connections() const { return client_.connections(); }
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
  // Returns true when it made the bucket (with Object Lock when asked for).
  bool create_bucket();
  // The bucket's object-lock configuration, asked once.
  BucketObjectLock bucket_object_lock();
  // Throws unless the bucket has Object Lock enabled: retention must never be pretended.
  void require_object_lock(bool bucket_just_created);
  // Whether objects of the bucket may be versioned and retained (enabled, or the store would not say).
  bool may_retain();
  struct StoredVersion {
    std::string version_id;                // empty on an unversioned bucket
    std::optional<int64_t> retained_until;  // Unix ns; also when already past
  };
  // HEAD of the current version; nullopt when there is none.
  std::optional<StoredVersion> stored_version(const std::string& key);
  void save_multipart(const std::string& key, ByteView data, bool retain);
  // PutObjectRetention for the upload's object: some stores (Ceph's RADOS Gateway 16) ignore
  // the retention named on CreateMultipartUpload. Same date as there, which a store that
  // took it accepts (only a shorter one is refused).
  void set_retention(const std::string& key, const std::string& version_id, std::time_t now);
  // Best effort, and skipped after SIGINT/SIGTERM: an upload left behind is invisible and
  // remove_temporaries aborts it later.
  void abort_multipart(const std::string& key, const std::string& upload_id);
  // Reads out.size() (> 0) bytes at `offset` into `out`, in ranges at once when large.
  void read_into(const std::string& key, uint64_t offset, std::span<uint8_t> out);
  // One ranged GET of `out.size()` bytes at `offset`; errors name the caller's whole range.
  void read_range(const std::string& key, uint64_t offset, std::span<uint8_t> out, uint64_t whole_offset,
                  uint64_t whole_length);
  [[noreturn]] void short_object(const std::string& key, uint64_t offset, uint64_t length,
                                 const std::string& got) const;
  // One object up: a PUT, or a multipart upload when large.
  void save_object(const Handle& handle, ByteView data);
  bool bucket_object_lock_known();
  // Whether `key` is one of this repository's objects (config, keys/…, data/…/…, …).
  bool is_repository_key(const std::string& key) const;

  std::string location_;
  S3Client client_;
  std::atomic<unsigned> reads_{0};  // read_into calls under way
  uint64_t multipart_threshold_ = default_multipart_threshold;
  int list_page_size_ = 0;
  ObjectLock object_lock_;  // asked for by the URL
  std::mutex bucket_lock_mutex_;
  std::optional<BucketObjectLock> bucket_lock_;  // asked once, then kept
};

// Opens the s3:// or s3+http:// URL with credentials from AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY, the region from AWS_REGION / AWS_DEFAULT_REGION (default
// us-east-1) and the CA certificates from AWS_CA_BUNDLE when set.
std::unique_ptr<Backend> open_s3_backend(const std::string& url);

}  // namespace obkeep::storage
