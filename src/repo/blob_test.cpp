// Blob encoding: a blob sealed again for another repository (a copy between related
// repositories) opens there to the same plaintext, compressed or raw, and a damaged or
// unprovable source blob is refused before anything is written.
#include "repo/blob.hpp"

#include <gtest/gtest.h>

#include "repo/memory_repository_for_tests.hpp"
#include "util/error.hpp"

namespace obkeep::repo {
namespace {

Bytes encode(const BlobSealing& sealing, const Id& id, ByteView plaintext,
             CompressionEffort effort = CompressionEffort::standard) {
  Bytes sealed;
  encode_blob(
      sealing, BlobType::data, id, plaintext,
      [&](size_t n) {
        sealed.resize(n);
        return sealed.data();
      },
      effort);
  return sealed;
}

Bytes reseal(const BlobSealing& from, const BlobSealing& to, const Id& id, ByteView sealed, uint32_t raw_length) {
  Bytes out;
  size_t n = reseal_blob(from, to, BlobType::data, id, sealed, raw_length, [&](size_t size) {
    out.resize(size);
    return out.data();
  });
  EXPECT_EQ(n, out.size());
  return out;
}

TEST(Blob, ResealedBlobsOpenWithTheOtherKeyAsTheyWere) {
  crypto::Key256 source_key = crypto::random_key(), destination_key = crypto::random_key();
  BlobSealing from{source_key, BlobBinding::type_and_id}, to{destination_key, BlobBinding::type_and_id};
  Id id;
  id.bytes[0] = 7;
  Bytes compressible(200000, 'a');
  Bytes incompressible = pseudo_random(200000, 1);
  for (const Bytes& plaintext : {compressible, incompressible}) {
    Bytes sealed = encode(from, id, plaintext);
    Bytes resealed = reseal(from, to, id, sealed, static_cast<uint32_t>(plaintext.size()));
    EXPECT_EQ(resealed.size(), sealed.size());  // as stored: not decompressed, not recompressed
    EXPECT_EQ(decode_blob(to, BlobType::data, id, resealed, static_cast<uint32_t>(plaintext.size())), plaintext);
    EXPECT_THROW(decode_blob(from, BlobType::data, id, resealed, static_cast<uint32_t>(plaintext.size())),
                 IntegrityError);
  }
}

TEST(Blob, EveryEffortCompressesDumpLikeTextAndDecodesToIt) {
  crypto::Key256 key = crypto::random_key();
  BlobSealing sealing{key, BlobBinding::type_and_id};
  Id id;
  // Rows of hex tokens, as a dump stream holds: only the entropy coder shrinks them.
  std::string rows;
  Bytes noise = pseudo_random(120000, 3);
  for (size_t i = 0; i + 16 <= noise.size(); i += 16) {
    for (size_t j = i; j < i + 16; ++j) rows += "0123456789abcdef"[noise[j] & 15];
    rows += i % 64 == 48 ? '\n' : '\t';
  }
  Bytes plaintext(rows.begin(), rows.end());
  for (CompressionEffort effort : {CompressionEffort::standard, CompressionEffort::fast, CompressionEffort::fastest}) {
    Bytes sealed = encode(sealing, id, plaintext, effort);
    EXPECT_LT(sealed.size(), plaintext.size() * 6 / 10) << static_cast<int>(effort);  // hex: 4 bits a character
    EXPECT_EQ(decode_blob(sealing, BlobType::data, id, sealed, static_cast<uint32_t>(plaintext.size())), plaintext);
  }
}

TEST(Blob, ResealRefusesDamagedAndUnprovableBlobs) {
  crypto::Key256 source_key = crypto::random_key(), destination_key = crypto::random_key();
  BlobSealing from{source_key, BlobBinding::type_and_id}, to{destination_key, BlobBinding::type_and_id};
  Id id, other;
  other.bytes[0] = 1;
  Bytes plaintext = pseudo_random(5000, 2);
  Bytes sealed = encode(from, id, plaintext);
  auto reseal_into_nothing = [&](const BlobSealing& source, const Id& claimed, ByteView bytes, uint32_t raw_length) {
    bool reserved = false;
    EXPECT_THROW(reseal_blob(source, to, BlobType::data, claimed, bytes, raw_length,
                             [&](size_t size) {
                               reserved = true;
                               static Bytes sink;
                               sink.resize(size);
                               return sink.data();
                             }),
                 IntegrityError);
    EXPECT_FALSE(reserved);  // nothing written into the destination's pack
  };
  Bytes flipped = sealed;
  flipped[flipped.size() / 2] ^= 1;
  reseal_into_nothing(from, id, flipped, 5000);
  reseal_into_nothing(from, other, sealed, 5000);  // the seal binds the id
  reseal_into_nothing(from, id, sealed, 4999);     // a raw body must be the raw length
  BlobSealing format_1{source_key, BlobBinding::type};
  reseal_into_nothing(format_1, id, encode(format_1, id, plaintext), 5000);  // only a hash proves it
}

}  // namespace
}  // namespace obkeep::repo
