// The seam through which a rate limiter paces an object while a backend sends it, not only
// before or after the whole object: a backend that writes an object in pieces asks
// transfer_piece_size() how large to make them and calls pace_transfer(n) before sending each
// piece of n bytes. Without a pacer on the calling thread both do nothing.
#pragma once

#include <cstdint>

namespace obkeep::storage {

class TransferPacer {
 public:
  virtual ~TransferPacer() = default;
  virtual uint64_t piece_size() const = 0;
  // Called before `bytes` go out; may sleep; throws Error(interrupted) on SIGINT/SIGTERM.
  virtual void pace(uint64_t bytes) = 0;
};

// Installs `pacer` for the calling thread while alive. Per thread, because many workers call
// one backend at once, each inside its own save.
class ScopedTransferPacer {
 public:
  explicit ScopedTransferPacer(TransferPacer& pacer);
  ~ScopedTransferPacer();
  ScopedTransferPacer(const ScopedTransferPacer&) = delete;
  ScopedTransferPacer& operator=(const ScopedTransferPacer&) = delete;

 private:
  TransferPacer* previous_;
};

// The piece size the current thread's pacer wants, or 0 when there is none (send at once).
uint64_t transfer_piece_size();
void pace_transfer(uint64_t bytes);

}  // namespace obkeep::storage
