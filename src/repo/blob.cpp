// Blob encoding: [compression byte][payload] sealed with AES-256-GCM; the associated data
// is the blob type (format 1) or the type and the id (format 2).
#include "repo/blob.hpp"

#define ZSTD_STATIC_LINKING_ONLY  // ZSTD_c_literalCompressionMode: an experimental parameter of zstd 1.5
#include <zstd.h>

#include <cstring>
#include <memory>

#include "util/error.hpp"

namespace obkeep::repo {

namespace {

constexpr uint8_t stored_raw = 0;
constexpr uint8_t stored_zstd = 1;
constexpr size_t sample_size = 64 * 1024;
constexpr int sample_level = 1;
constexpr int compression_level = 3;
constexpr int fast_compression_level = 1;
constexpr int fastest_compression_level = -3;
constexpr int fastest_hash_log = 12;  // a table that stays in L1: as small on dumps, ~10% faster

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
  // A small blob is its own sample: compressing it once costs what the look would.
  if (data.size() <= sample_size) return true;
  size_t sample = data.size() < sample_size ? data.size() : sample_size;
  scratch.resize(ZSTD_compressBound(sample));
  size_t n = ZSTD_compressCCtx(contexts().compress, scratch.data(), scratch.size(), data.data(), sample, sample_level);
  if (ZSTD_isError(n)) return false;
  return n < sample - sample / 16;
}

// The associated data: the type's letter, then (format 2) the id.
struct Associated {
  uint8_t bytes[1 + sizeof(Id::bytes)];
  size_t size;
  Associated(BlobBinding binding, BlobType type, const Id& id) {
    bytes[0] = type == BlobType::tree ? 'T' : 'D';
    size = 1;
    if (binding == BlobBinding::type_and_id) {
      std::memcpy(bytes + 1, id.bytes.data(), id.bytes.size());
      size += id.bytes.size();
    }
  }
  ByteView view() const { return ByteView(bytes, size); }
};

// zstd at `level` with the frame's content checksum, which decompression verifies: the
// seal proves the compressed bytes; the checksum proves what they decompressed to.
size_t compress(void* out, size_t capacity, ByteView in, CompressionEffort effort) {
  ZSTD_CCtx* context = contexts().compress;
  ZSTD_CCtx_reset(context, ZSTD_reset_session_and_parameters);
  ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1);
  switch (effort) {
    case CompressionEffort::standard:
      ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, compression_level);
      break;
    case CompressionEffort::fast:
      ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, fast_compression_level);
      break;
    case CompressionEffort::fastest:
      ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, fastest_compression_level);
      ZSTD_CCtx_setParameter(context, ZSTD_c_hashLog, fastest_hash_log);
      // Negative levels store literals raw unless told otherwise.
      ZSTD_CCtx_setParameter(context, ZSTD_c_literalCompressionMode, ZSTD_ps_enable);
      break;
  }
  return ZSTD_compress2(context, out, capacity, in.data(), in.size());
}

}  // namespace

const char* to_string(BlobType type) { return type == BlobType::tree ? "tree" : "data"; }

BlobBinding blob_binding_of(int format_version) {
  return format_version >= 2 ? BlobBinding::type_and_id : BlobBinding::type;
}

size_t encode_blob(const BlobSealing& sealing, BlobType type, const Id& id, ByteView plaintext,
                   const std::function<uint8_t*(size_t)>& reserve, CompressionEffort effort) {
  thread_local Bytes scratch, compressed;  // grown once per thread, never shrunk or zeroed again
  const crypto::Key256& key = sealing.key;
  Associated associated_data(sealing.binding, type, id);
  ByteView associated = associated_data.view();
  bool sampled = effort == CompressionEffort::standard;
  if (sampled ? worth_compressing(plaintext, scratch) : plaintext.size() >= 128) {
    size_t bound = ZSTD_compressBound(plaintext.size());
    if (compressed.size() < bound) compressed.resize(bound);
    // Trees too: on their JSON, higher levels were slower and no smaller (measured).
    size_t n = compress(compressed.data(), bound, plaintext, effort);
    if (!ZSTD_isError(n) && n < plaintext.size())
      return crypto::seal_into(key, {ByteView(&stored_zstd, 1), ByteView(compressed.data(), n)}, associated,
                               reserve(crypto::seal_overhead + 1 + n));
  }
  return crypto::seal_into(key, {ByteView(&stored_raw, 1), plaintext}, associated,
                           reserve(crypto::seal_overhead + 1 + plaintext.size()));
}

void decode_blob_into(const BlobSealing& sealing, BlobType type, const Id& id, ByteView sealed,
                      std::span<uint8_t> out) {
  if (sealed.size() < crypto::seal_overhead + 1) throw IntegrityError("empty blob");
  size_t body_size = sealed.size() - crypto::seal_overhead - 1;
  const crypto::Key256& key = sealing.key;
  Associated associated_data(sealing.binding, type, id);
  ByteView associated = associated_data.view();
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

size_t reseal_blob(const BlobSealing& from, const BlobSealing& to, BlobType type, const Id& id, ByteView sealed,
                   uint32_t raw_length, const std::function<uint8_t*(size_t)>& reserve) {
  if (from.binding != BlobBinding::type_and_id) throw IntegrityError("a format-1 blob must be decoded to be copied");
  if (sealed.size() < crypto::seal_overhead + 1) throw IntegrityError("empty blob");
  size_t body_size = sealed.size() - crypto::seal_overhead - 1;
  uint8_t framing = 0;
  thread_local Bytes body;  // grown once per thread
  if (body.size() < body_size) body.resize(body_size);
  crypto::open_into(from.key, sealed, Associated(from.binding, type, id).view(),
                    {std::span<uint8_t>(&framing, 1), std::span<uint8_t>(body.data(), body_size)});
  // The rules decode_blob_into applies: a raw body is the raw length, a compressed one shorter.
  if (framing == stored_raw ? body_size != raw_length : framing != stored_zstd || body_size >= raw_length)
    throw IntegrityError(framing == stored_raw || framing == stored_zstd ? "blob has the wrong length"
                                                                         : "blob has an unknown compression");
  return crypto::seal_into(to.key, {ByteView(&framing, 1), ByteView(body.data(), body_size)},
                           Associated(to.binding, type, id).view(), reserve(crypto::seal_overhead + 1 + body_size));
}

Bytes decode_blob(const BlobSealing& sealing, BlobType type, const Id& id, ByteView sealed, uint32_t raw_length) {
  Bytes plain(raw_length);
  decode_blob_into(sealing, type, id, sealed, plain);
  return plain;
}

}  // namespace obkeep::repo
