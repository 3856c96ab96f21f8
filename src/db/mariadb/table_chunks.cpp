// Key ranges of a table's first primary-key column (see table_chunks.hpp).
#include "db/mariadb/table_chunks.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <functional>

namespace obkeep::db {

namespace {

__extension__ using Wide = __int128;  // min, max and their multiples of a step never overflow it

Wide floor_divide(Wide value, Wide divisor) {
  Wide quotient = value / divisor;
  return (value % divisor != 0 && value < 0) ? quotient - 1 : quotient;
}

}  // namespace

KeyKind key_kind(const std::string& data_type) {
  for (const char* type : {"tinyint", "smallint", "mediumint", "int", "bigint"})
    if (data_type == type) return KeyKind::integer;
  if (data_type == "char" || data_type == "varchar") return KeyKind::text;
  for (const char* type : {"date", "datetime", "timestamp", "time", "year", "decimal"})
    if (data_type == type) return KeyKind::temporal;
  if (data_type == "binary" || data_type == "varbinary") return KeyKind::binary;
  return KeyKind::unsplittable;
}

std::vector<KeyRange> split_integer_keys(int64_t min, int64_t max, uint64_t parts) {
  if (parts <= 1 || max <= min) return {KeyRange{}};
  Wide span = Wide(max) - Wide(min) + 1;
  Wide step = 1;
  while (step * Wide(parts) < span) step *= 2;
  std::vector<KeyRange> ranges;
  std::optional<std::string> lower;
  // Cuts after (multiple of step) - 1, the first one past min, the last one before max.
  for (Wide next = (floor_divide(min, step) + 1) * step; next - 1 < max; next += step) {
    std::string upper = std::to_string(static_cast<int64_t>(next - 1));
    ranges.push_back({lower, upper});
    lower = upper;
  }
  ranges.push_back({lower, std::nullopt});
  return ranges;
}

std::vector<KeyRange> ranges_between(const std::vector<std::string>& boundaries) {
  std::vector<KeyRange> ranges;
  std::optional<std::string> lower;
  for (const std::string& boundary : boundaries) {
    ranges.push_back({lower, boundary});
    lower = boundary;
  }
  ranges.push_back({lower, std::nullopt});
  return ranges;
}

std::string range_condition(const std::string& quoted_column, const KeyRange& range) {
  std::string condition;
  if (range.lower) condition += quoted_column + " > " + *range.lower;
  if (range.upper) condition += (condition.empty() ? "" : " AND ") + quoted_column + " <= " + *range.upper;
  return condition.empty() ? "" : " WHERE " + condition;
}

bool key_ranges_forced() {
  const char* value = std::getenv("OBKEEP_MARIADB_CHUNK_ROWS");
  return value && *value;
}

bool whole_tables_unbalanced(std::vector<uint64_t> table_bytes, int workers, double slack) {
  if (workers <= 1 || table_bytes.empty()) return false;
  std::sort(table_bytes.begin(), table_bytes.end(), std::greater<>());
  std::vector<uint64_t> busy(static_cast<size_t>(workers), 0);
  uint64_t total = 0;
  for (uint64_t bytes : table_bytes) {
    *std::min_element(busy.begin(), busy.end()) += bytes;
    total += bytes;
  }
  double even_share = static_cast<double>(total) / workers;
  return static_cast<double>(*std::max_element(busy.begin(), busy.end())) > even_share * (1 + slack);
}

uint64_t rows_per_chunk(uint64_t average_row_bytes) {
  if (const char* value = std::getenv("OBKEEP_MARIADB_CHUNK_ROWS"); value && *value) {
    uint64_t rows = 0;
    std::string_view text(value);
    if (std::from_chars(text.data(), text.data() + text.size(), rows).ec == std::errc() && rows > 0) return rows;
  }
  constexpr uint64_t chunk_bytes = 16 << 20;
  return std::max<uint64_t>(1000, chunk_bytes / std::max<uint64_t>(average_row_bytes, 100));
}

std::string hex_literal(const std::string& bytes) {
  static const char digits[] = "0123456789ABCDEF";
  std::string out = "X'";
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out + "'";
}

}  // namespace obkeep::db
