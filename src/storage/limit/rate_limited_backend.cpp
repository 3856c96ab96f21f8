// Rate limiting around another backend: uploads paced while the backend sends them, downloads
// fetched in paced pieces.
#include "storage/limit/rate_limited_backend.hpp"

#include <algorithm>

#include "storage/transfer_pacer.hpp"

namespace obkeep::storage {

uint64_t limit_piece_size(uint64_t bytes_per_second) {
  constexpr uint64_t page = 4096, smallest = 16 * 1024, largest = 4 * 1024 * 1024;
  return std::clamp(bytes_per_second / 4 / page * page, smallest, largest);
}

namespace {

// The pacer one save installs: takes each piece from the upload bucket and counts what it took,
// so the save can tell which bytes the wrapped backend did not pace itself.
class SavePacer : public TransferPacer {
 public:
  SavePacer(TokenBucket& bucket, uint64_t piece) : bucket_(bucket), piece_(piece) {}
  uint64_t piece_size() const override { return piece_; }
  void pace(uint64_t bytes) override {
    bucket_.take(bytes);
    paced_ += bytes;
  }
  uint64_t paced() const { return paced_; }

 private:
  TokenBucket& bucket_;
  uint64_t piece_;
  uint64_t paced_ = 0;
};

bool limited(const std::unique_ptr<TokenBucket>& bucket, const Handle& handle) {
  return bucket && handle.type != FileType::lock;
}

}  // namespace

RateLimitedBackend::RateLimitedBackend(std::unique_ptr<Backend> inner, TransferLimits limits)
    : ForwardingBackend(std::move(inner)) {
  if (uint64_t rate = limits.upload_bytes_per_second) {
    upload_piece_ = limit_piece_size(rate);
    upload_ = std::make_unique<TokenBucket>(rate, upload_piece_);
  }
  if (uint64_t rate = limits.download_bytes_per_second) {
    download_piece_ = limit_piece_size(rate);
    download_ = std::make_unique<TokenBucket>(rate, download_piece_);
  }
}

// A save cannot be cut into several calls (it is atomic), so the wrapped backend does the
// pacing where it sends in pieces (the local backend does; see transfer_pacer.hpp). What it did
// not pace has already gone when save returns and is paid for afterwards: this thread waits out
// the debt and every other transfer queues behind it. Paying before instead would make a
// backend that paces its pieces pay twice; the cost of after is that an object from such a
// backend goes out at the link's speed, so the rate holds over a few objects' time rather than
// within each.
void RateLimitedBackend::save(const Handle& handle, ByteView data) {
  save_after(handle, data, [] {});
}

void RateLimitedBackend::save_after(const Handle& handle, ByteView data, const std::function<void()>& ready) {
  if (!limited(upload_, handle)) return inner_->save_after(handle, data, ready);
  SavePacer pacer(*upload_, upload_piece_);
  {
    ScopedTransferPacer scope(pacer);
    inner_->save_after(handle, data, ready);
  }
  if (data.size() > pacer.paced()) upload_->take(data.size() - pacer.paced());
}

// Downloads are paced before each piece is fetched: a range longer than one piece is read as
// several ranged reads, each taken from the bucket first, so the bytes arrive at the rate on
// every backend. A whole object of unknown size (length 0: index, snapshot, key) is read at
// once and paid for afterwards.
Bytes RateLimitedBackend::load(const Handle& handle, uint64_t offset, uint64_t length) {
  if (!limited(download_, handle)) return inner_->load(handle, offset, length);
  if (length == 0) {
    Bytes data = inner_->load(handle, offset, 0);
    download_->take(data.size());
    return data;
  }
  if (length <= download_piece_) {
    download_->take(length);
    return inner_->load(handle, offset, length);
  }
  Bytes data;
  data.reserve(length);
  for (uint64_t done = 0; done < length;) {
    uint64_t piece = std::min(download_piece_, length - done);
    download_->take(piece);
    inner_->read(handle, offset + done, piece,
                 [&](ByteView bytes) { data.insert(data.end(), bytes.begin(), bytes.end()); });
    done += piece;
  }
  return data;
}

void RateLimitedBackend::read(const Handle& handle, uint64_t offset, uint64_t length,
                              const std::function<void(ByteView)>& use) {
  if (!limited(download_, handle)) return inner_->read(handle, offset, length, use);
  if (length == 0 || length > download_piece_) {
    Bytes data = load(handle, offset, length);
    use(data);
    return;
  }
  download_->take(length);
  inner_->read(handle, offset, length, use);
}

std::optional<Bytes> RateLimitedBackend::load_if_present(const Handle& handle) {
  if (!limited(download_, handle)) return inner_->load_if_present(handle);
  return Backend::load_if_present(handle);  // through load() above, paced
}

// Paced reads go through read() above, which takes the bytes from the download bucket.
void RateLimitedBackend::read_into(const Handle& handle, uint64_t offset, std::span<uint8_t> out) {
  if (!limited(download_, handle)) return inner_->read_into(handle, offset, out);
  Backend::read_into(handle, offset, out);
}

std::unique_ptr<Backend> with_limits(std::unique_ptr<Backend> backend, const TransferLimits& limits) {
  if (!limits.any()) return backend;
  return std::make_unique<RateLimitedBackend>(std::move(backend), limits);
}

}  // namespace obkeep::storage
