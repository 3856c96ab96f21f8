// One file-system entry in a snapshot tree: its kind, full metadata and content.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/bytes.hpp"
#include "util/id.hpp"

namespace obkeep::repo {

enum class NodeType { file, directory, symlink, block_device, char_device, fifo, socket };

const char* to_string(NodeType type);

struct Node {
  std::string name;  // raw bytes; may be any byte string but "/" and NUL
  NodeType type = NodeType::file;
  uint32_t mode = 0;  // permission bits, setuid/setgid/sticky (st_mode & 07777)
  uint32_t uid = 0, gid = 0;
  std::string user, group;  // names at backup time, when known
  int64_t mtime_ns = 0, atime_ns = 0, ctime_ns = 0;
  uint64_t size = 0;
  uint64_t inode = 0, device = 0;  // to detect unchanged files and hard links
  uint64_t links = 1;
  uint64_t rdev = 0;          // device number of block and character devices
  std::string link_target;    // raw bytes
  std::vector<std::pair<std::string, Bytes>> xattrs;
  std::vector<Id> content;    // data blobs of a file, in order
  std::optional<Id> subtree;  // tree blob of a directory

  nlohmann::json to_json() const;
  // Appends the text of to_json().dump(), written directly (for trees, which may be huge).
  void append_json(std::string& out) const;
  static Node from_json(const nlohmann::json& json);  // throws IntegrityError
  bool operator==(const Node&) const = default;
};

// Strings that are not valid UTF-8 are stored base64-encoded under another key.
bool is_valid_utf8(std::string_view text);

}  // namespace obkeep::repo
