// Splitting a large MariaDB table into ranges of its first primary-key column, so that
// several workers dump (and restore) one table at once.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace obkeep::db {

// Keys k with lower < k <= upper, each bound an SQL literal ready to paste into a query;
// an absent bound is open. Ranges of one table follow each other in key order and their
// union is every possible key, so rows written after the planning still land in one.
struct KeyRange {
  std::optional<std::string> lower;  // exclusive
  std::optional<std::string> upper;  // inclusive
};

// How a key column's values are compared and written as literals.
enum class KeyKind {
  integer,    // MIN/MAX and even splits
  text,          // CHAR/VARCHAR: hex prefixes or sampled keys, quoted string literals
                 // (compared in the column's collation)
  binary,        // BINARY/VARBINARY: sampled keys, X'…' literals (compared byte by byte)
  temporal,      // dates, times, DECIMAL: sampled keys, quoted literals the server converts
  unsplittable,  // ENUM/SET sort by index but compare as text, floats, spatial…: one stream
};

// KeyKind of an information_schema.COLUMNS DATA_TYPE (lower case).
KeyKind key_kind(const std::string& data_type);

// About `parts` ranges covering [min, max], cut at multiples of a power of two: the cuts
// stay where they were while a table grows at its end or changes in place, so the streams
// of the next backup deduplicate against this one's. One open range when parts <= 1.
std::vector<KeyRange> split_integer_keys(int64_t min, int64_t max, uint64_t parts);

// Ranges cut after each of `boundaries` (literals, in increasing key order).
std::vector<KeyRange> ranges_between(const std::vector<std::string>& boundaries);

// " WHERE column > lower AND column <= upper", or "" for a range open at both ends.
std::string range_condition(const std::string& quoted_column, const KeyRange& range);

// Rows per range: OBKEEP_MARIADB_CHUNK_ROWS when set (tests), else about 16 MiB of rows
// of `average_row_bytes` (information_schema's estimate; 0 when unknown).
uint64_t rows_per_chunk(uint64_t average_row_bytes);

// Whether OBKEEP_MARIADB_CHUNK_ROWS is set: then every table of more rows than that is cut,
// balanced or not (tests cut small tables this way).
bool key_ranges_forced();

// Whether whole tables, the largest first each to the least busy of `workers` (how the
// dump hands them out), would keep the run more than `slack` (a fraction) past an even
// share of `table_bytes`. Only then do key ranges pay for what they cost: the planner's
// queries and range scans took the server about 40% more CPU than whole-table scans
// (measured on bench/db.sh's database, where no table bounds the run).
bool whole_tables_unbalanced(std::vector<uint64_t> table_bytes, int workers, double slack = 0.2);

// The literal for a key value read back from the server.
std::string hex_literal(const std::string& bytes);

}  // namespace obkeep::db
