#include "db/postgres/wal_file.hpp"

#include <cstdio>

namespace obkeep::db {

namespace {

bool parse_hex(const std::string& text, size_t at, size_t length, uint64_t& value) {
  if (at + length > text.size()) return false;
  value = 0;
  for (size_t i = at; i < at + length; ++i) {
    char c = text[i];
    int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;  // PostgreSQL writes upper case
    if (digit < 0) return false;
    value = value << 4 | static_cast<uint64_t>(digit);
  }
  return true;
}

uint64_t segments_per_xlogid(uint64_t segment_bytes) { return 0x100000000ull / segment_bytes; }

}  // namespace

std::optional<WalFile> parse_wal_file(const std::string& name, uint64_t segment_bytes) {
  WalFile file;
  uint64_t timeline = 0;
  if (!parse_hex(name, 0, 8, timeline) || timeline == 0) return std::nullopt;
  file.timeline = static_cast<uint32_t>(timeline);
  if (name.size() == 16 && name.compare(8, 8, ".history") == 0) {
    file.kind = WalFile::Kind::timeline_history;
    return file;
  }
  uint64_t xlogid = 0, low = 0;
  if (!parse_hex(name, 8, 8, xlogid) || !parse_hex(name, 16, 8, low)) return std::nullopt;
  if (segment_bytes == 0 || low >= segments_per_xlogid(segment_bytes)) return std::nullopt;
  file.segment = xlogid * segments_per_xlogid(segment_bytes) + low;
  std::string rest = name.substr(24);
  uint64_t offset = 0;
  if (rest.empty()) file.kind = WalFile::Kind::segment;
  else if (rest == ".partial") file.kind = WalFile::Kind::partial;
  else if (rest.size() == 16 && rest[0] == '.' && parse_hex(rest, 1, 8, offset) && rest.compare(9, 7, ".backup") == 0)
    file.kind = WalFile::Kind::backup_history;
  else
    return std::nullopt;
  return file;
}

std::string wal_segment_name(uint32_t timeline, uint64_t segment, uint64_t segment_bytes) {
  char name[25];
  uint64_t per = segments_per_xlogid(segment_bytes);
  snprintf(name, sizeof name, "%08X%08X%08X", timeline, static_cast<unsigned>(segment / per), static_cast<unsigned>(segment % per));
  return name;
}

std::optional<uint64_t> parse_lsn(const std::string& text) {
  size_t slash = text.find('/');
  if (slash == std::string::npos || slash == 0 || slash > 8 || text.size() - slash - 1 == 0 || text.size() - slash - 1 > 8)
    return std::nullopt;
  uint64_t high = 0, low = 0;
  std::string upper;
  for (char c : text) upper += static_cast<char>(c >= 'a' && c <= 'f' ? c - 'a' + 'A' : c);
  if (!parse_hex(upper, 0, slash, high) || !parse_hex(upper, slash + 1, text.size() - slash - 1, low)) return std::nullopt;
  return high << 32 | low;
}

}  // namespace obkeep::db
