// Key ranges of a table, asked of the server (see key_range_planner.hpp).
#include "db/mariadb/key_range_planner.hpp"

#include <charconv>
#include <optional>
#include <vector>

#include "util/error.hpp"
#include "util/interrupt.hpp"

namespace obkeep::db {

namespace {

bool parse_integer(const std::string& text, int64_t& value) {
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size();
}

// Text keys that are hexadecimal (UUIDs, hashes): cuts at hex prefixes, refined where the
// optimizer's estimate (EXPLAIN: a few B-tree dives, no scan) says a range is too large,
// then merged into ranges of about rows_per_chunk. Hex digits sort alike in every
// collation, so the cuts are in key order whatever the column's collation; keys that are
// not hex still fall into some range. Empty when the estimates stay lopsided (keys that
// are not hex): then the caller walks the key.
std::vector<std::string> hex_prefix_cuts(MariadbConnection& connection, const std::string& table,
                                         const std::string& column, uint64_t estimated_rows, uint64_t rows_per_chunk) {
  static const std::string digits = "0123456789abcdef";
  constexpr size_t deepest = 4;  // 16^4 prefixes: enough for 65,536 ranges
  auto estimate = [&](const std::optional<std::string>& lower, const std::optional<std::string>& upper) {
    KeyRange range{lower ? std::optional<std::string>("'" + *lower + "'") : std::nullopt,
                   upper ? std::optional<std::string>("'" + *upper + "'") : std::nullopt};
    auto plan = connection.query("EXPLAIN SELECT 1 FROM " + table + range_condition(column, range));
    uint64_t rows = 0;
    if (!plan.empty() && plan[0].size() > 8) std::from_chars(plan[0][8].data(), plan[0][8].data() + plan[0][8].size(), rows);
    return rows;
  };
  // Part i holds the keys that start with prefixes[i] (the first part also those below it,
  // the last those above): it is (prefixes[i], prefixes[i + 1]], the first and last open.
  std::vector<std::string> prefixes;
  for (char digit : digits) prefixes.push_back(std::string(1, digit));
  auto part_rows = [&](size_t i) {
    return estimate(i ? std::optional<std::string>(prefixes[i]) : std::nullopt,
                    i + 1 < prefixes.size() ? std::optional<std::string>(prefixes[i + 1]) : std::nullopt);
  };
  std::vector<uint64_t> rows;
  for (size_t depth = 1;; ++depth) {
    rows.clear();
    std::vector<std::string> refined;
    bool split = false;
    for (size_t i = 0; i < prefixes.size(); ++i) {
      throw_if_interrupted();
      rows.push_back(part_rows(i));
      if (rows.back() > rows_per_chunk && depth < deepest) {
        for (char digit : digits) refined.push_back(prefixes[i] + digit);
        split = true;
      } else {
        refined.push_back(prefixes[i]);
      }
    }
    if (!split) break;
    prefixes = std::move(refined);
  }
  // The dives overestimate small ranges (about twice, measured): scale the parts to the
  // table's row estimate before merging them.
  uint64_t sum = 0;
  for (uint64_t count : rows) sum += count;
  if (sum > estimated_rows && estimated_rows > 0)
    for (uint64_t& count : rows) count = count * estimated_rows / sum;
  std::vector<std::string> cuts;
  uint64_t gathered = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows[i] > 2 * rows_per_chunk) return {};  // lopsided: not hex keys
    if (gathered > 0 && gathered + rows[i] > rows_per_chunk) {
      cuts.push_back("'" + prefixes[i] + "'");
      gathered = 0;
    }
    gathered += rows[i];
  }
  return cuts;
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
  if (key.kind == KeyKind::text) {
    std::vector<std::string> cuts = hex_prefix_cuts(connection, table, column, estimated_rows, rows_per_chunk);
    if (!cuts.empty()) {
      for (KeyRange& range : ranges_between(cuts))
        if (!found(std::move(range))) return;
      return;
    }
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
