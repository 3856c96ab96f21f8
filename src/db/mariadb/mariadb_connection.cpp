// libmariadb wrapper.
#include "db/mariadb/mariadb_connection.hpp"

#include "util/error.hpp"

namespace obkeep::db {

std::string quote_mysql_identifier(const std::string& name) {
  std::string out = "`";
  for (char c : name) out += c == '`' ? std::string("``") : std::string(1, c);
  return out + "`";
}

MariadbConnection::MariadbConnection(const ConnectionInfo& info, const std::string& database, bool local_infile)
    : connection_(mysql_init(nullptr)),
      where_("mysql://" + info.host + ":" + std::to_string(info.port) + "/" + database) {
  if (!connection_) throw std::bad_alloc();
  unsigned int timeout = 10;
  mysql_options(connection_, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
  my_bool on = local_infile ? 1 : 0;
  mysql_options(connection_, MYSQL_OPT_LOCAL_INFILE, &on);
  mysql_options(connection_, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  auto socket = info.options.find("unix_socket");  // a private server (a drill's, a replay's)
  if (!mysql_real_connect(connection_, info.host.c_str(), info.user.c_str(), info.password.c_str(),
                          database.empty() ? nullptr : database.c_str(), static_cast<unsigned>(info.port),
                          socket == info.options.end() ? nullptr : socket->second.c_str(),
                          CLIENT_MULTI_STATEMENTS | CLIENT_LOCAL_FILES)) {
    std::string message = mysql_error(connection_);
    mysql_close(connection_);
    connection_ = nullptr;
    throw Error("cannot connect to " + where_ + " as " + info.user + ": " + message);
  }
}

MariadbConnection::~MariadbConnection() {
  if (connection_) mysql_close(connection_);
}

void MariadbConnection::fail(const std::string& what) { throw Error(where_ + ": " + what + ": " + mysql_error(connection_)); }

void MariadbConnection::execute(const std::string& sql) {
  if (mysql_real_query(connection_, sql.data(), sql.size()) != 0) fail("query failed");
  if (MYSQL_RES* result = mysql_store_result(connection_)) mysql_free_result(result);
}

void MariadbConnection::execute_script(const std::string& sql) {
  if (mysql_real_query(connection_, sql.data(), sql.size()) != 0) fail("script failed");
  for (;;) {
    if (MYSQL_RES* result = mysql_store_result(connection_)) mysql_free_result(result);
    int status = mysql_next_result(connection_);
    if (status > 0) fail("script failed");
    if (status < 0) break;
  }
}

std::vector<std::vector<std::string>> MariadbConnection::query(const std::string& sql) {
  if (mysql_real_query(connection_, sql.data(), sql.size()) != 0) fail("query failed");
  MYSQL_RES* result = mysql_store_result(connection_);
  std::vector<std::vector<std::string>> rows;
  if (!result) return rows;
  unsigned fields = mysql_num_fields(result);
  while (MYSQL_ROW row = mysql_fetch_row(result)) {
    unsigned long* lengths = mysql_fetch_lengths(result);
    std::vector<std::string> values;
    for (unsigned i = 0; i < fields; ++i) values.emplace_back(row[i] ? std::string(row[i], lengths[i]) : "");
    rows.push_back(std::move(values));
  }
  mysql_free_result(result);
  return rows;
}

std::string MariadbConnection::escape(const std::string& text) {
  std::string out(text.size() * 2 + 1, '\0');
  unsigned long n = mysql_real_escape_string(connection_, out.data(), text.data(), text.size());
  out.resize(n);
  return out;
}

}  // namespace obkeep::db
