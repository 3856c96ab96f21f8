// A libpq connection that throws obkeep::Error naming the database, never the password.
#pragma once

#include <libpq-fe.h>

#include <string>
#include <vector>

#include "db/engine.hpp"

namespace obkeep::db {

class PgConnection {
 public:
  PgConnection(const ConnectionInfo& info, const std::string& database);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Runs SQL (several statements allowed); throws on failure.
  void execute(const std::string& sql);
  // Runs a query; returns rows of text values ("" for NULL).
  std::vector<std::vector<std::string>> query(const std::string& sql, const std::vector<std::string>& parameters = {});
  PGconn* raw() { return connection_; }
  [[noreturn]] void fail(const std::string& what);
  std::string describe() const { return where_; }

 private:
  PGconn* connection_;
  std::string where_;
};

std::string quote_identifier(const std::string& name);

// The path of a PostgreSQL client program (pg_dump, pg_basebackup): the `pg_bin` option,
// else the newest Debian installation, else PATH.
std::string pg_bin(const ConnectionInfo& info, const std::string& tool);

}  // namespace obkeep::db
