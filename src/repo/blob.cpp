// Blob encoding: [compression byte][payload] sealed with AES-256-GCM, AAD = blob type.
#include "repo/blob.hpp"

#include <zstd.h>

#include <memory>

#include "util/error.hpp"

namespace obkeep::repo {

namespace {

constexpr uint8_t stored_raw = 0;
constexpr uint8_t stored_zstd = 1;
constexpr size_t sample_size = 64 * 1024;
constexpr int sample_level = 1;
constexpr int compression_level = 3;
constexpr int tree_compression_level = 9;

struct CompressionContexts {
  ZSTD_CCtx* compress = ZSTD_createCCtx();
  ZSTD_DCtx* decompress = ZSTD_createDCtx();
  ~CompressionContexts() {
    ZSTD_freeCCtx(compress);
    ZSTD_freeDCtx(decompress);
  }
};

CompressionContexts& contexts() {
  thread_local CompressionContexts per_thread;
  return per_thread;
}

// Jars, wars and compressed files do not shrink: a cheap look at a sample avoids spending
// a full compression pass on them.
bool worth_compressing(ByteView data, Bytes& scratch) {
  if (data.size() < 128) return false;
  size_t sample = data.size() < sample_size ? data.size() : sample_size;
  scratch.resize(ZSTD_compressBound(sample));
  size_t n = ZSTD_compressCCtx(contexts().compress, scratch.data(), scratch.size(), data.data(), sample, sample_level);
  if (ZSTD_isError(n)) return false;
  return n < sample - sample / 16;
}

const uint8_t* associated_of(BlobType type) {
  static const uint8_t data_tag = 'D', tree_tag = 'T';
  return type == BlobType::tree ? &tree_tag : &data_tag;
}

}  // namespace

const char* to_string(BlobType type) { return type == BlobType::tree ? "tree" : "data"; }

size_t encode_blob(const crypto::Key256& key, BlobType type, ByteView plaintext,
                   const std::function<uint8_t*(size_t)>& reserve) {
  thread_local Bytes scratch, compressed;  // grown once per thread, never shrunk or zeroed again
  ByteView associated(associated_of(type), 1);
  if (worth_compressing(plaintext, scratch)) {
    size_t bound = ZSTD_compressBound(plaintext.size());
    if (compressed.size() < bound) compressed.resize(bound);
    // Trees are small and read on every restore and diff: worth a stronger level.
    int level = type == BlobType::tree ? tree_compression_level : compression_level;
    size_t n = ZSTD_compressCCtx(contexts().compress, compressed.data(), bound, plaintext.data(), plaintext.size(), level);
    if (!ZSTD_isError(n) && n < plaintext.size())
      return crypto::seal_into(key, {ByteView(&stored_zstd, 1), ByteView(compressed.data(), n)}, associated,
                               reserve(crypto::seal_overhead + 1 + n));
  }
  return crypto::seal_into(key, {ByteView(&stored_raw, 1), plaintext}, associated,
                           reserve(crypto::seal_overhead + 1 + plaintext.size()));
}

void decode_blob_into(const crypto::Key256& key, BlobType type, ByteView sealed, std::span<uint8_t> out) {
  if (sealed.size() < crypto::seal_overhead + 1) throw IntegrityError("empty blob");
  size_t body_size = sealed.size() - crypto::seal_overhead - 1;
  ByteView associated(associated_of(type), 1);
  // The framing byte is decrypted apart. A compressed body is stored only when shorter than
  // the raw data, so a body of exactly the raw length is raw and is decrypted straight into
  // `out`: most bytes (jars, wars) take no further copy.
  uint8_t framing = 0;
  if (body_size == out.size()) {
    crypto::open_into(key, sealed, associated, {std::span<uint8_t>(&framing, 1), out});
    if (framing != stored_raw) throw IntegrityError("blob has an unknown compression");
    return;
  }
  if (body_size > out.size()) throw IntegrityError("blob has the wrong length");
  thread_local Bytes body;  // grown once per thread
  if (body.size() < body_size) body.resize(body_size);
  crypto::open_into(key, sealed, associated, {std::span<uint8_t>(&framing, 1), std::span<uint8_t>(body.data(), body_size)});
  if (framing == stored_raw) throw IntegrityError("blob has the wrong length");
  if (framing != stored_zstd) throw IntegrityError("blob has an unknown compression");
  size_t n = ZSTD_decompressDCtx(contexts().decompress, out.data(), out.size(), body.data(), body_size);
  if (ZSTD_isError(n) || n != out.size()) throw IntegrityError("blob does not decompress to its recorded length");
}

Bytes decode_blob(const crypto::Key256& key, BlobType type, ByteView sealed, uint32_t raw_length) {
  Bytes plain(raw_length);
  decode_blob_into(key, type, sealed, plain);
  return plain;
}

}  // namespace obkeep::repo
