// AES-256-GCM via OpenSSL's EVP interface (AES-NI and PCLMULQDQ when the CPU has them).
#include "crypto/aead.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <cstring>
#include <memory>

#include "util/error.hpp"

namespace obkeep::crypto {

namespace {

struct CipherContextFree {
  void operator()(EVP_CIPHER_CTX* context) const { EVP_CIPHER_CTX_free(context); }
};
using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, CipherContextFree>;

CipherContext new_context() {
  CipherContext context(EVP_CIPHER_CTX_new());
  if (!context) throw std::bad_alloc();
  return context;
}

// A context per thread and direction with the key already expanded: for the small blobs of
// a tree of small files, the key schedule and the GHASH set-up cost more than the sealing.
class KeyedContext {
 public:
  ~KeyedContext() { OPENSSL_cleanse(key_.data(), key_.size()); }
  // The context, initialised for `key` and `nonce`; nullptr when OpenSSL fails.
  EVP_CIPHER_CTX* start(bool encrypt, const Key256& key, const uint8_t* nonce) {
    bool same_key = ready_ && CRYPTO_memcmp(key_.data(), key.data(), key.size()) == 0;
    const EVP_CIPHER* cipher = same_key ? nullptr : EVP_aes_256_gcm();
    const uint8_t* expand = same_key ? nullptr : key.data();
    ready_ = false;
    int ok = encrypt ? EVP_EncryptInit_ex(context_.get(), cipher, nullptr, expand, nonce)
                     : EVP_DecryptInit_ex(context_.get(), cipher, nullptr, expand, nonce);
    if (ok != 1) return nullptr;
    key_ = key;
    return context_.get();
  }
  // Called after a seal or open that succeeded; after a failure the next use starts afresh.
  void done() { ready_ = true; }

 private:
  CipherContext context_ = new_context();
  Key256 key_{};
  bool ready_ = false;
};

KeyedContext& keyed_context(bool encrypt) {
  thread_local KeyedContext contexts[2];
  return contexts[encrypt ? 1 : 0];
}

// Nonces are public: drawing them from a per-thread buffer of random bytes saves a call into
// the generator per blob. (obkeep forks only to exec, so no buffer is ever shared.)
void random_nonce(uint8_t* out) {
  thread_local std::array<uint8_t, nonce_size * 256> buffer;
  thread_local size_t used = buffer.size();
  if (used == buffer.size()) {
    random_bytes(buffer.data(), buffer.size());
    used = 0;
  }
  std::memcpy(out, buffer.data() + used, nonce_size);
  used += nonce_size;
}

}  // namespace

void random_bytes(uint8_t* out, size_t length) {
  if (RAND_bytes(out, static_cast<int>(length)) != 1) throw Error("OpenSSL could not produce random bytes");
}

Key256 random_key() {
  Key256 key;
  random_bytes(key.data(), key.size());
  return key;
}

size_t seal_into(const Key256& key, std::initializer_list<ByteView> parts, ByteView associated, uint8_t* out) {
  size_t plaintext_size = 0;
  for (ByteView part : parts) plaintext_size += part.size();
  uint8_t* nonce = out;
  uint8_t* ciphertext = nonce + nonce_size;
  random_nonce(nonce);
  KeyedContext& keyed = keyed_context(true);
  EVP_CIPHER_CTX* context = keyed.start(true, key, nonce);
  int length = 0;
  bool ok = context && (associated.empty() || EVP_EncryptUpdate(context, nullptr, &length, associated.data(),
                                                                static_cast<int>(associated.size())) == 1);
  size_t done = 0;
  for (ByteView part : parts) {
    if (!ok || part.empty()) continue;
    ok = EVP_EncryptUpdate(context, ciphertext + done, &length, part.data(), static_cast<int>(part.size())) == 1;
    done += static_cast<size_t>(length);
  }
  ok = ok && EVP_EncryptFinal_ex(context, ciphertext + done, &length) == 1 &&
       EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, tag_size, ciphertext + plaintext_size) == 1;
  if (!ok) throw Error("OpenSSL failed: AES-256-GCM encryption");
  keyed.done();
  return seal_overhead + plaintext_size;
}

Bytes seal(const Key256& key, ByteView plaintext, ByteView associated) {
  Bytes out(seal_overhead + plaintext.size());
  seal_into(key, {plaintext}, associated, out.data());
  return out;
}

Bytes open(const Key256& key, ByteView sealed, ByteView associated) {
  if (sealed.size() < seal_overhead) throw IntegrityError("encrypted object too short");
  Bytes plaintext(sealed.size() - seal_overhead);
  open_into(key, sealed, associated, {std::span<uint8_t>(plaintext)});
  return plaintext;
}

void open_into(const Key256& key, ByteView sealed, ByteView associated, std::initializer_list<std::span<uint8_t>> parts) {
  if (sealed.size() < seal_overhead) throw IntegrityError("encrypted object too short");
  const uint8_t* nonce = sealed.data();
  const uint8_t* ciphertext = nonce + nonce_size;
  size_t ciphertext_size = sealed.size() - seal_overhead;
  size_t total = 0;
  for (auto part : parts) total += part.size();
  if (total != ciphertext_size) throw IntegrityError("encrypted object has the wrong length");
  KeyedContext& keyed = keyed_context(false);
  EVP_CIPHER_CTX* context = keyed.start(false, key, nonce);
  int length = 0;
  bool ok = context && (associated.empty() || EVP_DecryptUpdate(context, nullptr, &length, associated.data(),
                                                                static_cast<int>(associated.size())) == 1);
  size_t done = 0;
  for (auto part : parts) {
    if (!ok || part.empty()) continue;
    ok = EVP_DecryptUpdate(context, part.data(), &length, ciphertext + done, static_cast<int>(part.size())) == 1 &&
         static_cast<size_t>(length) == part.size();
    done += part.size();
  }
  uint8_t final_block[16];
  ok = ok &&
       EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_TAG, tag_size, const_cast<uint8_t*>(ciphertext + ciphertext_size)) == 1 &&
       EVP_DecryptFinal_ex(context, final_block, &length) == 1;
  if (!ok) throw IntegrityError("authentication failed: data was tampered with or the key is wrong");
  keyed.done();
}

}  // namespace obkeep::crypto
