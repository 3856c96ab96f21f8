// Node metadata: capture from the file system and JSON encoding.
#include "repo/node.hpp"

#include <algorithm>

#include "util/error.hpp"
#include "util/json_decode.hpp"

namespace obkeep::repo {

using nlohmann::json;

const char* to_string(NodeType type) {
  switch (type) {
    case NodeType::file: return "file";
    case NodeType::directory: return "dir";
    case NodeType::symlink: return "symlink";
    case NodeType::block_device: return "blockdev";
    case NodeType::char_device: return "chardev";
    case NodeType::fifo: return "fifo";
    case NodeType::socket: return "socket";
  }
  return "unknown";
}

static NodeType type_from_string(const std::string& text) {
  for (NodeType type : {NodeType::file, NodeType::directory, NodeType::symlink, NodeType::block_device,
                        NodeType::char_device, NodeType::fifo, NodeType::socket})
    if (text == to_string(type)) return type;
  throw IntegrityError("tree has an unknown node type: " + text);
}

bool is_valid_utf8(std::string_view text) {
  size_t i = 0, n = text.size();
  while (i < n) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    size_t extra;
    unsigned char low = 0x80, high = 0xbf;  // allowed range of the second byte
    if (c < 0x80) {
      extra = 0;
    } else if (c >= 0xc2 && c <= 0xdf) {
      extra = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
      extra = 2;
      if (c == 0xe0) low = 0xa0;   // overlong
      if (c == 0xed) high = 0x9f;  // surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
      extra = 3;
      if (c == 0xf0) low = 0x90;
      if (c == 0xf4) high = 0x8f;
    } else {
      return false;
    }
    if (n - i - 1 < extra) return false;
    for (size_t k = 1; k <= extra; ++k) {
      unsigned char next = static_cast<unsigned char>(text[i + k]);
      if (k == 1 ? (next < low || next > high) : (next & 0xc0) != 0x80) return false;
    }
    i += extra + 1;
  }
  return true;
}

static void put_string(json& out, const char* key, const std::string& value) {
  if (is_valid_utf8(value))
    out[key] = value;
  else
    out[std::string(key) + "_b64"] = base64_encode(as_bytes(value));
}

static std::string get_string(const json& in, const char* key) {
  if (auto it = in.find(key); it != in.end()) return it->get<std::string>();
  if (auto it = in.find(std::string(key) + "_b64"); it != in.end())
    return obkeep::to_string(base64_decode(it->get<std::string>()));
  return "";
}

json Node::to_json() const {
  json out;
  put_string(out, "name", name);
  out["type"] = to_string(type);
  out["mode"] = mode;
  out["uid"] = uid;
  out["gid"] = gid;
  if (!user.empty()) out["user"] = user;
  if (!group.empty()) out["group"] = group;
  out["mtime_ns"] = mtime_ns;
  out["atime_ns"] = atime_ns;
  out["ctime_ns"] = ctime_ns;
  out["inode"] = inode;
  out["device"] = device;
  out["links"] = links;
  if (type == NodeType::file) out["size"] = size;
  if (type == NodeType::block_device || type == NodeType::char_device) out["rdev"] = rdev;
  if (type == NodeType::symlink) put_string(out, "link_target", link_target);
  if (!xattrs.empty()) {
    json list = json::array();
    for (const auto& [key, value] : xattrs) {
      json entry;
      put_string(entry, "name", key);
      entry["value_b64"] = base64_encode(value);
      list.push_back(entry);
    }
    out["xattrs"] = list;
  }
  if (type == NodeType::file) {
    json ids = json::array();
    for (const Id& id : content) ids.push_back(id.hex());
    out["content"] = ids;
  }
  if (subtree) out["subtree"] = subtree->hex();
  return out;
}

Node Node::from_json(const json& in) {
  Node node;
  try {
    node.name = get_string(in, "name");
    node.type = type_from_string(in.at("type").get<std::string>());
    const std::string what = "tree node";
    node.mode = json_integer<uint32_t>(in.at("mode"), "tree node mode");
    node.uid = json_integer_or<uint32_t>(in, "uid", 0, what);
    node.gid = json_integer_or<uint32_t>(in, "gid", 0, what);
    node.user = in.value("user", "");
    node.group = in.value("group", "");
    node.mtime_ns = json_integer_or<int64_t>(in, "mtime_ns", 0, what);
    node.atime_ns = json_integer_or<int64_t>(in, "atime_ns", 0, what);
    node.ctime_ns = json_integer_or<int64_t>(in, "ctime_ns", 0, what);
    node.inode = json_integer_or<uint64_t>(in, "inode", 0, what);
    node.device = json_integer_or<uint64_t>(in, "device", 0, what);
    node.links = json_integer_or<uint64_t>(in, "links", 1, what);
    node.size = json_integer_or<uint64_t>(in, "size", 0, what);
    node.rdev = json_integer_or<uint64_t>(in, "rdev", 0, what);
    node.link_target = get_string(in, "link_target");
    if (auto it = in.find("xattrs"); it != in.end())
      for (const json& entry : *it)
        node.xattrs.emplace_back(get_string(entry, "name"), base64_decode(entry.at("value_b64").get<std::string>()));
    if (auto it = in.find("content"); it != in.end())
      for (const json& id : *it) node.content.push_back(Id::from_hex(id.get<std::string>()));
    if (auto it = in.find("subtree"); it != in.end()) node.subtree = Id::from_hex(it->get<std::string>());
  } catch (const json::exception& e) {
    throw IntegrityError(std::string("tree has a malformed node: ") + e.what());
  } catch (const IntegrityError&) {
    throw;
  } catch (const Error& e) {
    throw IntegrityError(std::string("tree has a malformed node: ") + e.what());
  }
  return node;
}

}  // namespace obkeep::repo
