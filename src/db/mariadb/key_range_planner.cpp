// Key ranges of a table, asked of the server (see key_range_planner.hpp).
#include "db/mariadb/key_range_planner.hpp"

#include <charconv>

#include "util/error.hpp"
#include "util/interrupt.hpp"

namespace obkeep::db {

namespace {

bool parse_integer(const std::string& text, int64_t& value) {
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size();
}

}  // namespace

void plan_key_ranges(MariadbConnection& connection, const TableKey& key, uint64_t estimated_rows,
                     uint64_t rows_per_chunk, const std::function<bool(KeyRange)>& found) {
  std::string table = quote_mysql_identifier(key.table), column = quote_mysql_identifier(key.column);
  if (key.kind == KeyKind::integer) {
    auto bounds = connection.query("SELECT MIN(" + column + "), MAX(" + column + ") FROM " + table);
    int64_t min = 0, max = 0;
    uint64_t parts = (estimated_rows + rows_per_chunk - 1) / rows_per_chunk;
    // An empty table, or a BIGINT UNSIGNED past INT64_MAX: one range.
    if (bounds.empty() || !parse_integer(bounds[0][0], min) || !parse_integer(bounds[0][1], max)) parts = 1;
    for (KeyRange& range : split_integer_keys(min, max, parts))
      if (!found(std::move(range))) return;
    return;
  }
  KeyRange range;
  for (;;) {
    throw_if_interrupted();
    auto row = connection.query("SELECT " + column + " FROM " + table + range_condition(column, range) + " ORDER BY " +
                                column + " LIMIT 1 OFFSET " + std::to_string(rows_per_chunk - 1));
    if (row.empty()) {
      found(std::move(range));
      return;
    }
    std::string value = row[0][0];
    range.upper = key.kind == KeyKind::binary ? hex_literal(value) : "'" + connection.escape(value) + "'";
    std::optional<std::string> next = range.upper;
    if (!found(std::move(range))) return;
    range = KeyRange{next, std::nullopt};
  }
}

}  // namespace obkeep::db
