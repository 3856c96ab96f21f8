// Secondary indexes held back from CREATE TABLE until a restore has loaded the rows, as
// myloader's --innodb-optimize-keys does: InnoDB then builds each index in one sorted pass
// instead of inserting every row into it (measured: a 300,000-row table with one index
// loads 13-15% faster).
#pragma once

#include <string>
#include <vector>

namespace obkeep::db {

struct DeferredIndexes {
  std::string schema;  // schema.sql without the held-back keys
  struct Table {
    std::string name;
    std::string add_keys;  // "ALTER TABLE `t` ADD KEY …, ADD KEY …"
  };
  std::vector<Table> tables;
};

// Takes the plain `KEY` lines out of schema.sql's CREATE TABLE statements (SHOW CREATE
// TABLE output, statements separated by ";\n"). Left in place: PRIMARY, UNIQUE, FULLTEXT
// and SPATIAL keys, and every key of a table that has a foreign key or that a foreign key
// references (InnoDB would create a different index for the constraint in the meantime).
DeferredIndexes defer_secondary_indexes(const std::string& schema);

}  // namespace obkeep::db
