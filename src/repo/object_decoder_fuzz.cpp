// libFuzzer target: every decoder of untrusted repository bytes (after decryption an
// attacker with the key, or a bug, could still hand us anything) must never crash, leak or
// hit undefined behaviour; rejecting input with an obkeep::Error is the only other outcome.
// The first byte picks the decoder; tests/fuzz-seeds/object_decoder_fuzz/ holds valid
// encodings of each, so fuzzing starts from structure.
#include <cstddef>
#include <cstdint>

#include "db/dump_manifest.hpp"
#include "repo/archive_entry.hpp"
#include "repo/index.hpp"
#include "repo/lock.hpp"
#include "repo/master_key.hpp"
#include "repo/pack.hpp"
#include "repo/repository_config.hpp"
#include "repo/snapshot.hpp"
#include "repo/tree.hpp"
#include "util/error.hpp"

namespace {

enum Decoder : uint8_t {
  index_file,
  pack_header,
  sealed_pack_header,
  tree,
  repository_config,
  key_file,
  master_key,
  snapshot,
  lock,
  dump_manifest,
  archive_entry,
  decoder_count
};

void decode(Decoder decoder, obkeep::ByteView input) {
  using namespace obkeep;
  const Id id{};
  switch (decoder) {
    case index_file: repo::decode_index_file(input); break;
    case pack_header: repo::decode_pack_header(input, UINT32_MAX); break;
    case sealed_pack_header: {
      // Opening fails for almost every input; the length checks before it are the target.
      const crypto::Key256 key{};
      repo::parse_pack_header(key, input, input.size());
      break;
    }
    case tree: repo::decode_tree(input); break;
    case repository_config: repo::decode_repository_config(input); break;
    case key_file: repo::decode_key_file(input, "fuzz"); break;
    case master_key: repo::decode_master_key(input, "fuzz"); break;
    case snapshot: repo::decode_snapshot(input, id); break;
    case lock: repo::decode_lock(input, id); break;
    case dump_manifest: db::decode_dump_manifest(to_string(input)); break;
    case archive_entry: repo::decode_archive_entry(input, id); break;
    case decoder_count: break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  try {
    decode(static_cast<Decoder>(data[0] % decoder_count), obkeep::ByteView(data + 1, size - 1));
  } catch (const obkeep::Error&) {
    // Rejecting bad input with an Error is the correct outcome.
  }
  return 0;
}
