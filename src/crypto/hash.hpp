// SHA-256 and the keyed blob id (HMAC-SHA-256); OpenSSL uses the CPU's SHA extensions.
#pragma once

#include <memory>

#include "util/bytes.hpp"
#include "util/id.hpp"

typedef struct evp_md_ctx_st EVP_MD_CTX;

namespace obkeep::crypto {

Id sha256(ByteView data);

// Incremental SHA-256, for hashing a pack while it is written.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(ByteView data);
  Id finish();

 private:
  EVP_MD_CTX* context_;
};

// HMAC-SHA-256 under a fixed 32-byte key, with the key schedule done once: blob ids
// are computed for every chunk, so each call only copies two precomputed states.
// Thread-safe: id() does not modify the object.
class KeyedHash {
 public:
  explicit KeyedHash(ByteView key);
  ~KeyedHash();
  KeyedHash(const KeyedHash&) = delete;
  KeyedHash& operator=(const KeyedHash&) = delete;
  Id id(ByteView data) const;

 private:
  EVP_MD_CTX* inner_;  // state after absorbing key ^ ipad
  EVP_MD_CTX* outer_;  // state after absorbing key ^ opad
};

}  // namespace obkeep::crypto
