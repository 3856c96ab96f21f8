#include <gtest/gtest.h>

#include "crypto/aead.hpp"
#include "crypto/hash.hpp"
#include "crypto/kdf.hpp"
#include "util/error.hpp"

namespace obkeep::crypto {

TEST(Hash, Sha256KnownAnswer) {
  EXPECT_EQ(sha256(as_bytes("abc")).hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 incremental;
  incremental.update(as_bytes("a"));
  incremental.update(as_bytes("bc"));
  EXPECT_EQ(incremental.finish(), sha256(as_bytes("abc")));
}

TEST(Hash, HmacSha256Rfc4231Case2) {
  KeyedHash hmac(as_bytes("Jefe"));
  EXPECT_EQ(hmac.id(as_bytes("what do ya want for nothing?")).hex(),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Aead, RoundTripAndTamper) {
  Key256 key = random_key();
  Bytes sealed = seal(key, as_bytes("secret data"), as_bytes("S"));
  EXPECT_EQ(sealed.size(), 11 + seal_overhead);
  EXPECT_EQ(to_string(open(key, sealed, as_bytes("S"))), "secret data");
  EXPECT_THROW(open(key, sealed, as_bytes("I")), IntegrityError);
  sealed[15] ^= 1;
  EXPECT_THROW(open(key, sealed, as_bytes("S")), IntegrityError);
  EXPECT_THROW(open(random_key(), seal(key, as_bytes("x")), {}), IntegrityError);
  EXPECT_THROW(open(key, as_bytes("short"), {}), IntegrityError);
}

TEST(Kdf, DeterministicAndSalted) {
  ScryptParams fast{1 << 10, 8, 1};
  Bytes salt(16, 7);
  EXPECT_EQ(derive_key("pw", salt, fast), derive_key("pw", salt, fast));
  EXPECT_NE(derive_key("pw", salt, fast), derive_key("pw2", salt, fast));
  Bytes other(16, 8);
  EXPECT_NE(derive_key("pw", salt, fast), derive_key("pw", other, fast));
  EXPECT_THROW(derive_key("pw", salt, ScryptParams{1000, 8, 1}), Error);
}

}  // namespace obkeep::crypto
