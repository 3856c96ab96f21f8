// A Backend wrapper that holds uploads and downloads to a rate (--limit-upload,
// --limit-download, a DR site's limit_upload / limit_download), so a copy during business hours
// leaves room on the link.
#pragma once

#include <cstdint>
#include <memory>

#include "storage/forwarding_backend.hpp"
#include "storage/limit/token_bucket.hpp"

namespace obkeep::storage {

// The piece a limited transfer is cut into: a quarter second at the rate, in whole pages (local
// saves write pieces with O_DIRECT), from 16 KiB to 4 MiB. Also the bucket's burst.
uint64_t limit_piece_size(uint64_t bytes_per_second);

// save() counts upload bytes, load() and read() download bytes, each against one token bucket
// shared by every thread that calls this backend, so their total holds the rate. stat, list,
// remove and create are small control requests and go unlimited; so do lock objects, whose
// refresh must never wait behind pack traffic.
class RateLimitedBackend : public ForwardingBackend {
 public:
  RateLimitedBackend(std::unique_ptr<Backend> inner, TransferLimits limits);

  void save(const Handle& handle, ByteView data) override;
  void save_after(const Handle& handle, ByteView data, const std::function<void()>& ready) override;
  Bytes load(const Handle& handle, uint64_t offset, uint64_t length) override;
  void read(const Handle& handle, uint64_t offset, uint64_t length, const std::function<void(ByteView)>& use) override;
  void read_into(const Handle& handle, uint64_t offset, std::span<uint8_t> out) override;
  std::optional<Bytes> load_if_present(const Handle& handle) override;

 private:
  std::unique_ptr<TokenBucket> upload_,
      download_;  // null: that direction is unlimited
  uint64_t upload_piece_ = 0, download_piece_ = 0;
};

// Wraps `backend` when `limits` limit anything; otherwise returns it unchanged.
std::unique_ptr<Backend> with_limits(std::unique_ptr<Backend> backend, const TransferLimits& limits);

}  // namespace obkeep::storage
