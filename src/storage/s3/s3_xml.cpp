// Parsing S3 error bodies and ListObjectsV2 pages with pugixml.
#include "storage/s3/s3_xml.hpp"

#include <pugixml.hpp>

#include "util/error.hpp"

namespace obkeep::storage {

std::string s3_error_code(ByteView body) {
  pugi::xml_document document;
  if (!document.load_buffer(body.data(), body.size())) return "";
  return document.child("Error").child_value("Code");
}

ListPage parse_list_page(ByteView body, const std::string& what) {
  pugi::xml_document document;
  pugi::xml_parse_result parsed = document.load_buffer(body.data(), body.size());
  pugi::xml_node result = document.child("ListBucketResult");
  if (!parsed || !result) throw Error("cannot parse the S3 listing of " + what + ": not a ListBucketResult");
  ListPage page;
  for (pugi::xml_node object : result.children("Contents")) {
    std::string key = object.child_value("Key");
    uint64_t size = object.child("Size").text().as_ullong();
    page.objects.emplace_back(std::move(key), size);
  }
  page.truncated = std::string(result.child_value("IsTruncated")) == "true";
  page.next_token = result.child_value("NextContinuationToken");
  if (page.truncated && page.next_token.empty())
    throw Error("S3 listing of " + what + " is truncated but has no NextContinuationToken");
  return page;
}

}  // namespace obkeep::storage
