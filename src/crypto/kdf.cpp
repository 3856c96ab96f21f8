// scrypt through OpenSSL.
#include "crypto/kdf.hpp"

#include <openssl/evp.h>

#include "util/error.hpp"

namespace obkeep::crypto {

Key256 derive_key(std::string_view password, ByteView salt, const ScryptParams& params) {
  if (params.n < 2 || (params.n & (params.n - 1)) != 0 || params.n > (1ull << 24) || params.r == 0 ||
      params.r > 64 || params.p == 0 || params.p > 16)
    throw Error("key file has invalid scrypt parameters");
  Key256 key;
  uint64_t max_memory = 256ull * params.r * params.n * params.p + (64ull << 20);
  if (EVP_PBE_scrypt(password.data(), password.size(), salt.data(), salt.size(), params.n, params.r, params.p,
                     max_memory, key.data(), key.size()) != 1)
    throw Error("scrypt key derivation failed");
  return key;
}

}  // namespace obkeep::crypto
