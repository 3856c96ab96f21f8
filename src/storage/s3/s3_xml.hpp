// The two S3 XML documents obkeep reads: an error body and a ListObjectsV2 page.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "util/bytes.hpp"

namespace obkeep::storage {

// The <Code> of an S3 <Error> body, or "" when the body is not one.
std::string s3_error_code(ByteView body);

struct ListPage {
  std::vector<std::pair<std::string, uint64_t>> objects;  // key, size
  bool truncated = false;
  std::string next_token;  // NextContinuationToken when truncated
};

// Throws Error naming `what` when the body is not a ListBucketResult.
ListPage parse_list_page(ByteView body, const std::string& what);

}  // namespace obkeep::storage
