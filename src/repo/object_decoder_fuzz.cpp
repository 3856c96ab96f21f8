// libFuzzer target: the decoders of untrusted repository bytes (after decryption an
// attacker with the key, or a bug, could still hand us anything) must never crash.
#include <cstddef>
#include <cstdint>

#include "repo/index.hpp"
#include "repo/pack.hpp"
#include "repo/tree.hpp"
#include "util/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  obkeep::ByteView input(data, size);
  if (size == 0) return 0;
  obkeep::ByteView rest = input.subspan(1);
  try {
    switch (data[0] % 3) {
      case 0: obkeep::repo::decode_index_file(rest); break;
      case 1: obkeep::repo::decode_pack_header(rest, UINT32_MAX); break;
      default: obkeep::repo::decode_tree(rest); break;
    }
  } catch (const obkeep::Error&) {
    // Rejecting bad input with an Error is the correct outcome.
  }
  return 0;
}
