#include "repo/blob_prefetch.hpp"

#include <algorithm>

#include "util/error.hpp"

namespace obkeep::repo {

BlobPrefetch::BlobPrefetch(Repository& repository, std::vector<BlobLocation> wanted) : repository_(repository) {
  std::sort(wanted.begin(), wanted.end(), [](const BlobLocation& a, const BlobLocation& b) {
    return a.pack != b.pack ? a.pack < b.pack : a.offset < b.offset;
  });
  for (size_t i = 0; i < wanted.size();) {
    const Id& pack = wanted[i].pack;
    uint64_t start = wanted[i].offset;
    uint64_t end = start + wanted[i].stored_length;
    size_t j = i + 1;
    for (; j < wanted.size() && wanted[j].pack == pack; ++j) {
      uint64_t next_end = std::max<uint64_t>(end, uint64_t(wanted[j].offset) + wanted[j].stored_length);
      if (wanted[j].offset > end + max_gap || next_end - start > max_run) break;
      end = next_end;
    }
    try {
      runs_.push_back({pack, start, repository_.read_pack_range(pack, start, end - start)});
    } catch (const Error&) {
      // Left to load_into, which reads the blobs one by one and names the one at fault.
    }
    i = j;
  }
}

const BlobPrefetch::Run* BlobPrefetch::run_holding(const BlobLocation& location) const {
  for (const Run& run : runs_)
    if (run.pack == location.pack && location.offset >= run.offset &&
        location.offset + uint64_t(location.stored_length) <= run.offset + run.bytes.size())
      return &run;
  return nullptr;
}

void BlobPrefetch::load_into(const Id& id, const BlobLocation& location, std::span<uint8_t> out) {
  if (const Run* run = run_holding(location))
    return repository_.open_blob_into(
        id, location, ByteView(run->bytes.data() + (location.offset - run->offset), location.stored_length), out);
  repository_.load_blob_into(id, location, out);
}

void BlobPrefetch::read_sealed(const BlobLocation& location, const std::function<void(ByteView)>& use) {
  if (const Run* run = run_holding(location))
    return use(ByteView(run->bytes.data() + (location.offset - run->offset), location.stored_length));
  use(repository_.read_pack_range(location.pack, location.offset, location.stored_length));
}

}  // namespace obkeep::repo
