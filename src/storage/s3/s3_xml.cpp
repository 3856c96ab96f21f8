// Reading and writing S3's XML documents with pugixml.
#include "storage/s3/s3_xml.hpp"

#include <pugixml.hpp>
#include <sstream>

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

std::string parse_upload_id(ByteView body, const std::string& what) {
  pugi::xml_document document;
  document.load_buffer(body.data(), body.size());
  std::string id = document.child("InitiateMultipartUploadResult").child_value("UploadId");
  if (id.empty()) throw Error("S3 started no multipart upload of " + what + ": its answer has no UploadId");
  return id;
}

std::string complete_multipart_body(const std::vector<std::string>& etags) {
  pugi::xml_document document;
  pugi::xml_node root = document.append_child("CompleteMultipartUpload");
  root.append_attribute("xmlns") = "http://s3.amazonaws.com/doc/2006-03-01/";
  for (size_t i = 0; i < etags.size(); ++i) {
    pugi::xml_node part = root.append_child("Part");
    part.append_child("PartNumber").text() = static_cast<unsigned long long>(i + 1);
    part.append_child("ETag").text() = etags[i].c_str();
  }
  std::ostringstream text;
  document.save(text, "", pugi::format_raw | pugi::format_no_declaration);
  return text.str();
}

UploadsPage parse_uploads_page(ByteView body, const std::string& what) {
  pugi::xml_document document;
  pugi::xml_parse_result parsed = document.load_buffer(body.data(), body.size());
  pugi::xml_node result = document.child("ListMultipartUploadsResult");
  if (!parsed || !result)
    throw Error("cannot parse the S3 list of multipart uploads of " + what + ": not a ListMultipartUploadsResult");
  UploadsPage page;
  for (pugi::xml_node upload : result.children("Upload"))
    page.uploads.emplace_back(upload.child_value("Key"), upload.child_value("UploadId"));
  page.truncated = std::string(result.child_value("IsTruncated")) == "true";
  page.next_key_marker = result.child_value("NextKeyMarker");
  page.next_upload_id_marker = result.child_value("NextUploadIdMarker");
  if (page.truncated && page.next_key_marker.empty())
    throw Error("S3 list of multipart uploads of " + what + " is truncated but has no NextKeyMarker");
  return page;
}

}  // namespace obkeep::storage
