// A node's JSON written straight into a string: the text nlohmann's dump() gives for
// Node::to_json() (keys in byte order, the same escapes), without building the JSON object
// first. A tree of a million files is encoded once per backup; building objects cost more
// than compressing and sealing the result.
#include <charconv>

#include "repo/node.hpp"

namespace obkeep::repo {

namespace {

void append_escaped(std::string& out, std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += "\\u00";
          out += hex[(c >> 4) & 0xf];
          out += hex[c & 0xf];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

// Writes `"key":` preceded by a comma unless it is the object's first member.
class ObjectWriter {
 public:
  explicit ObjectWriter(std::string& out) : out_(out) { out_ += '{'; }
  ~ObjectWriter() { out_ += '}'; }
  std::string& key(std::string_view name) {
    if (!first_) out_ += ',';
    first_ = false;
    out_ += '"';
    out_ += name;
    out_ += "\":";
    return out_;
  }
  template <typename Integer>
  void integer(std::string_view name, Integer value) {
    key(name);
    char digits[24];
    auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
    out_.append(digits, end);
  }
  void string(std::string_view name, std::string_view value) { append_escaped(key(name), value); }
  // A byte string as put_string stores it: as text when valid UTF-8, else base64 under "<name>_b64".
  void byte_string(std::string_view name, const std::string& value) {
    if (is_valid_utf8(value)) {
      string(name, value);
    } else {
      std::string b64_name(name);
      b64_name += "_b64";
      string(b64_name, base64_encode(as_bytes(value)));
    }
  }

 private:
  std::string& out_;
  bool first_ = true;
};

}  // namespace

void Node::append_json(std::string& out) const {
  ObjectWriter object(out);
  object.integer("atime_ns", atime_ns);
  if (type == NodeType::file) {
    object.key("content") += '[';
    for (size_t i = 0; i < content.size(); ++i) {
      if (i) out += ',';
      out += '"';
      out += content[i].hex();
      out += '"';
    }
    out += ']';
  }
  object.integer("ctime_ns", ctime_ns);
  object.integer("device", device);
  object.integer("gid", gid);
  // Names that are not UTF-8 cannot be JSON text; they are left out (the ids remain).
  if (!group.empty() && is_valid_utf8(group)) object.string("group", group);
  object.integer("inode", inode);
  if (type == NodeType::symlink) object.byte_string("link_target", link_target);
  object.integer("links", links);
  object.integer("mode", mode);
  object.integer("mtime_ns", mtime_ns);
  object.byte_string("name", name);
  if (type == NodeType::block_device || type == NodeType::char_device) object.integer("rdev", rdev);
  if (type == NodeType::file) object.integer("size", size);
  if (subtree) object.string("subtree", subtree->hex());
  object.string("type", to_string(type));
  object.integer("uid", uid);
  if (!user.empty() && is_valid_utf8(user)) object.string("user", user);
  if (!xattrs.empty()) {
    object.key("xattrs") += '[';
    for (size_t i = 0; i < xattrs.size(); ++i) {
      if (i) out += ',';
      ObjectWriter entry(out);
      entry.byte_string("name", xattrs[i].first);
      entry.string("value_b64", base64_encode(xattrs[i].second));
    }
    out += ']';
  }
}

}  // namespace obkeep::repo
