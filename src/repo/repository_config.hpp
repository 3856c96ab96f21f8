// The repository config object: format version, repository id and chunker parameters.
#pragma once

#include "chunker/chunker.hpp"
#include "util/bytes.hpp"
#include "util/id.hpp"

namespace obkeep::repo {

// Written by init; format 1 (blob seals bind the type only) is still read and written.
constexpr int format_version = 2;
constexpr int oldest_format_version = 1;

struct RepositoryConfig {
  int version = format_version;
  Id id;
  ChunkerParams chunker;
  ChunkerParams dump_chunker;  // database dumps; absent in older configs: equal to chunker
};

// The config's JSON text (sealed by the caller).
Bytes encode_repository_config(const RepositoryConfig& config);
// Throws IntegrityError for malformed text, Error for a format version this build cannot read.
RepositoryConfig decode_repository_config(ByteView text);

}  // namespace obkeep::repo
