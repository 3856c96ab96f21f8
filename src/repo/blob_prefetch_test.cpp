// BlobPrefetch: blobs read ahead in runs come out exactly as load_blob gives them, blobs
// not read ahead are loaded on demand, and a damaged blob is named without spoiling its run.
#include "repo/blob_prefetch.hpp"

#include <gtest/gtest.h>

#include "repo/memory_repository_for_tests.hpp"
#include "util/error.hpp"

namespace obkeep::repo {

namespace {

MemoryRepository make_repository() { return make_memory_repository(); }

struct Saved {
  Id id;
  Bytes plaintext;
};

}  // namespace

TEST(BlobPrefetch, ReadsRunsAndFallsBackPerBlob) {
  auto [backend, repository] = make_repository();
  std::vector<Saved> blobs;
  for (uint32_t i = 0; i < 60; ++i) {
    // Small blobs, one in ten larger than the gap a run may bridge.
    size_t size = i % 10 == 9 ? BlobPrefetch::max_gap * 2 : 100 + i * 997;
    Bytes data = pseudo_random(size, i);
    blobs.push_back({repository->save_blob(BlobType::data, data), data});
  }
  repository->flush();

  std::vector<BlobLocation> wanted;
  for (size_t i = 0; i < blobs.size(); ++i)
    if (i % 10 != 5 && i % 10 != 9) wanted.push_back(repository->locate(blobs[i].id));  // skip the large ones too
  wanted.push_back(wanted.front());                                                    // duplicates are fine
  BlobPrefetch prefetch(*repository, wanted);
  for (const Saved& blob : blobs) {
    BlobLocation location = repository->locate(blob.id);
    Bytes out(location.raw_length);
    prefetch.load_into(blob.id, location, out);
    EXPECT_EQ(out, blob.plaintext);
  }

  // One byte flipped inside the pack: only the blob holding it fails, with its id in the message.
  BlobLocation damaged = repository->locate(blobs[3].id);
  Bytes& pack = backend->objects().at({storage::FileType::pack, damaged.pack.hex()});
  pack[damaged.offset + damaged.stored_length / 2] ^= 0x01;
  BlobPrefetch after_damage(*repository, wanted);
  for (size_t i = 0; i < blobs.size(); ++i) {
    BlobLocation location = repository->locate(blobs[i].id);
    Bytes out(location.raw_length);
    if (i == 3) {
      try {
        after_damage.load_into(blobs[i].id, location, out);
        ADD_FAILURE() << "a damaged blob was accepted";
      } catch (const IntegrityError& e) {
        EXPECT_NE(std::string(e.what()).find(blobs[i].id.hex()), std::string::npos) << e.what();
      }
      continue;
    }
    after_damage.load_into(blobs[i].id, location, out);
    EXPECT_EQ(out, blobs[i].plaintext);
  }
}

TEST(BlobPrefetch, MissingPackLeavesItsBlobsToFailOneByOne) {
  auto [backend, repository] = make_repository();
  Bytes data = pseudo_random(5000, 7);
  Id id = repository->save_blob(BlobType::data, data);
  repository->flush();
  BlobLocation location = repository->locate(id);
  backend->objects().erase({storage::FileType::pack, location.pack.hex()});
  BlobPrefetch prefetch(*repository, {location});  // does not throw: the blob is read on demand
  Bytes out(location.raw_length);
  EXPECT_THROW(prefetch.load_into(id, location, out), Error);
}

}  // namespace obkeep::repo
