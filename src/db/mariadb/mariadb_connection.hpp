// A libmariadb connection that throws obkeep::Error naming the database, never the password.
#pragma once

#include <mysql.h>

#include <string>
#include <vector>

#include "db/engine.hpp"

namespace obkeep::db {

class MariadbConnection {
 public:
  // `database` may be empty (server-level connection).
  MariadbConnection(const ConnectionInfo& info, const std::string& database, bool local_infile = false);
  ~MariadbConnection();
  MariadbConnection(const MariadbConnection&) = delete;
  MariadbConnection& operator=(const MariadbConnection&) = delete;

  void execute(const std::string& sql);
  // Runs several statements separated by ';' (multi-statement mode).
  void execute_script(const std::string& sql);
  std::vector<std::vector<std::string>> query(const std::string& sql);
  std::string escape(const std::string& text);
  MYSQL* raw() { return connection_; }
  [[noreturn]] void fail(const std::string& what);

 private:
  MYSQL* connection_;
  std::string where_;
};

std::string quote_mysql_identifier(const std::string& name);

}  // namespace obkeep::db
