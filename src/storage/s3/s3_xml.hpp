// The S3 XML documents obkeep reads (an error body, a ListObjectsV2 page, the answers of
// multipart uploads) and the one it writes (CompleteMultipartUpload).
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

// The <UploadId> of a CreateMultipartUpload answer; throws Error naming `what` when absent.
std::string parse_upload_id(ByteView body, const std::string& what);

// The body of CompleteMultipartUpload: part i + 1 has the ETag etags[i], quotes kept.
std::string complete_multipart_body(const std::vector<std::string>& etags);

struct UploadsPage {
  std::vector<std::pair<std::string, std::string>> uploads;  // key, upload id
  bool truncated = false;
  std::string next_key_marker, next_upload_id_marker;  // where the next page starts
};

// A ListMultipartUploads page; throws Error naming `what` when the body is not one.
UploadsPage parse_uploads_page(ByteView body, const std::string& what);

}  // namespace obkeep::storage
