// SHA-256 and HMAC-SHA-256 over OpenSSL's EVP digests.
#include "crypto/hash.hpp"

#include <openssl/evp.h>

#include <cstring>

#include "util/error.hpp"

namespace obkeep::crypto {

namespace {

void check(int ok, const char* what) {
  if (ok != 1) throw Error(std::string("OpenSSL failed: ") + what);
}

EVP_MD_CTX* new_sha256_context() {
  EVP_MD_CTX* context = EVP_MD_CTX_new();
  if (!context) throw std::bad_alloc();
  check(EVP_DigestInit_ex(context, EVP_sha256(), nullptr), "SHA-256 init");
  return context;
}

}  // namespace

Id sha256(ByteView data) {
  Id id;
  unsigned int length = 0;
  check(EVP_Digest(data.data(), data.size(), id.bytes.data(), &length, EVP_sha256(), nullptr), "SHA-256");
  return id;
}

Sha256::Sha256() : context_(new_sha256_context()) {}
Sha256::~Sha256() { EVP_MD_CTX_free(context_); }
void Sha256::update(ByteView data) { check(EVP_DigestUpdate(context_, data.data(), data.size()), "SHA-256 update"); }
Id Sha256::finish() {
  Id id;
  check(EVP_DigestFinal_ex(context_, id.bytes.data(), nullptr), "SHA-256 final");
  return id;
}

KeyedHash::KeyedHash(ByteView key) : inner_(new_sha256_context()), outer_(new_sha256_context()) {
  constexpr size_t block = 64;
  uint8_t padded[block] = {};
  if (key.size() > block) {
    Id hashed = sha256(key);
    std::memcpy(padded, hashed.bytes.data(), hashed.bytes.size());
  } else {
    std::memcpy(padded, key.data(), key.size());
  }
  uint8_t pad[block];
  for (size_t i = 0; i < block; ++i) pad[i] = padded[i] ^ 0x36;
  check(EVP_DigestUpdate(inner_, pad, block), "HMAC inner");
  for (size_t i = 0; i < block; ++i) pad[i] = padded[i] ^ 0x5c;
  check(EVP_DigestUpdate(outer_, pad, block), "HMAC outer");
}

KeyedHash::~KeyedHash() {
  EVP_MD_CTX_free(inner_);
  EVP_MD_CTX_free(outer_);
}

Id KeyedHash::id(ByteView data) const {
  EVP_MD_CTX* context = EVP_MD_CTX_new();
  if (!context) throw std::bad_alloc();
  Id inner_digest, result;
  bool ok = EVP_MD_CTX_copy_ex(context, inner_) == 1 &&
            EVP_DigestUpdate(context, data.data(), data.size()) == 1 &&
            EVP_DigestFinal_ex(context, inner_digest.bytes.data(), nullptr) == 1 &&
            EVP_MD_CTX_copy_ex(context, outer_) == 1 &&
            EVP_DigestUpdate(context, inner_digest.bytes.data(), inner_digest.bytes.size()) == 1 &&
            EVP_DigestFinal_ex(context, result.bytes.data(), nullptr) == 1;
  EVP_MD_CTX_free(context);
  if (!ok) throw Error("OpenSSL failed: HMAC-SHA-256");
  return result;
}

}  // namespace obkeep::crypto
