// The current thread's transfer pacer.
#include "storage/transfer_pacer.hpp"

namespace obkeep::storage {

namespace {
thread_local TransferPacer* current_pacer = nullptr;
}

ScopedTransferPacer::ScopedTransferPacer(TransferPacer& pacer) : previous_(current_pacer) { current_pacer = &pacer; }

ScopedTransferPacer::~ScopedTransferPacer() { current_pacer = previous_; }

uint64_t transfer_piece_size() { return current_pacer ? current_pacer->piece_size() : 0; }

void pace_transfer(uint64_t bytes) {
  if (current_pacer && bytes > 0) current_pacer->pace(bytes);
}

}  // namespace obkeep::storage
