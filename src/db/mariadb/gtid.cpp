#include "db/mariadb/gtid.hpp"

#include <charconv>

namespace obkeep::db {

namespace {

template <typename Number>
bool parse_number(std::string_view text, Number& value) {
  if (text.empty()) return false;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size();
}

uint64_t little_endian(ByteView bytes, size_t at, size_t width) {
  uint64_t value = 0;
  for (size_t i = width; i-- > 0;) value = value << 8 | bytes[at + i];
  return value;
}

}  // namespace

std::string Gtid::to_string() const {
  return std::to_string(domain) + "-" + std::to_string(server) + "-" + std::to_string(sequence);
}

std::optional<Gtid> parse_gtid(const std::string& text) {
  size_t first = text.find('-');
  size_t second = first == std::string::npos ? std::string::npos : text.find('-', first + 1);
  if (second == std::string::npos) return std::nullopt;
  std::string_view view(text);
  Gtid gtid;
  if (!parse_number(view.substr(0, first), gtid.domain) || !parse_number(view.substr(first + 1, second - first - 1), gtid.server) ||
      !parse_number(view.substr(second + 1), gtid.sequence))
    return std::nullopt;
  return gtid;
}

std::optional<GtidPosition> parse_gtid_position(const std::string& text) {
  GtidPosition position;
  size_t begin = 0;
  while (begin < text.size()) {
    size_t comma = text.find(',', begin);
    std::string item = text.substr(begin, comma == std::string::npos ? std::string::npos : comma - begin);
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    std::optional<Gtid> gtid = parse_gtid(item);
    if (!gtid || !position.emplace(gtid->domain, *gtid).second) return std::nullopt;  // one per domain
    if (comma == std::string::npos) break;
    if (comma + 1 == text.size()) return std::nullopt;  // a trailing comma
    begin = comma + 1;
  }
  return position;
}

std::string to_string(const GtidPosition& position) {
  std::string text;
  for (const auto& [domain, gtid] : position) text += (text.empty() ? "" : ",") + gtid.to_string();
  return text;
}

std::optional<Gtid> gtid_of_event(ByteView event) {
  constexpr size_t header = 19;
  // type at 4, server id at 5; the body starts with the sequence number, then the domain.
  if (event.size() < header + 12 || event[4] != gtid_event_type) return std::nullopt;
  Gtid gtid;
  gtid.server = static_cast<uint32_t>(little_endian(event, 5, 4));
  gtid.sequence = little_endian(event, header, 8);
  gtid.domain = static_cast<uint32_t>(little_endian(event, header + 8, 4));
  return gtid;
}

}  // namespace obkeep::db
