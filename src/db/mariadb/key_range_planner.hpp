// Finding the key ranges of a large table on the server: MIN/MAX for an integer key, a walk
// along the primary key (LIMIT 1 OFFSET n) for other keys.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "db/mariadb/mariadb_connection.hpp"
#include "db/mariadb/table_chunks.hpp"

namespace obkeep::db {

struct TableKey {
  std::string table;   // table name
  std::string column;  // the first primary-key column
  KeyKind kind = KeyKind::unsplittable;
};

// Calls `found` with each range of about `rows_per_chunk` rows, in key order, as soon as it
// is known (workers start on the first while the walk goes on); stops early when `found`
// returns false. The ranges cover every key, so they need not come from the snapshot the
// rows are read in: the walk runs outside it, and rows written since only make a range
// a little larger or smaller.
void plan_key_ranges(MariadbConnection& connection, const TableKey& key, uint64_t estimated_rows,
                     uint64_t rows_per_chunk, const std::function<bool(KeyRange)>& found);

}  // namespace obkeep::db
