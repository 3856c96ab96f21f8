// libpq wrapper.
#include "db/postgres/pg_connection.hpp"

#include <filesystem>

#include "util/error.hpp"

namespace obkeep::db {

namespace {
std::string first_line(const char* message) {
  std::string text = message ? message : "";
  size_t newline = text.find('\n');
  return newline == std::string::npos ? text : text.substr(0, newline);
}
}  // namespace

std::string quote_identifier(const std::string& name) {
  std::string out = "\"";
  for (char c : name) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

PgConnection::PgConnection(const ConnectionInfo& info, const std::string& database)
    : where_("postgresql://" + info.host + ":" + std::to_string(info.port) + "/" + database) {
  std::string port = std::to_string(info.port);
  const char* keys[] = {"host", "port", "dbname", "user", "password", "connect_timeout", "application_name", nullptr};
  const char* values[] = {info.host.c_str(), port.c_str(), database.c_str(), info.user.c_str(),
                          info.password.c_str(), "10", "obkeep", nullptr};
  connection_ = PQconnectdbParams(keys, values, 0);
  if (PQstatus(connection_) != CONNECTION_OK) {
    std::string message = first_line(PQerrorMessage(connection_));
    PQfinish(connection_);
    connection_ = nullptr;
    throw Error("cannot connect to " + where_ + " as " + info.user + ": " + message);
  }
}

PgConnection::~PgConnection() {
  if (connection_) PQfinish(connection_);
}

void PgConnection::fail(const std::string& what) {
  throw Error(where_ + ": " + what + ": " + first_line(PQerrorMessage(connection_)));
}

void PgConnection::execute(const std::string& sql) {
  if (!PQsendQuery(connection_, sql.c_str())) fail("query failed");
  std::string error;
  while (PGresult* result = PQgetResult(connection_)) {
    ExecStatusType status = PQresultStatus(result);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && error.empty())
      error = first_line(PQresultErrorMessage(result));
    PQclear(result);
  }
  if (!error.empty()) throw Error(where_ + ": " + error);
}

std::vector<std::vector<std::string>> PgConnection::query(const std::string& sql,
                                                          const std::vector<std::string>& parameters) {
  std::vector<const char*> values;
  for (const auto& p : parameters) values.push_back(p.c_str());
  PGresult* result = PQexecParams(connection_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                                  nullptr, nullptr, 0);
  if (PQresultStatus(result) != PGRES_TUPLES_OK) {
    std::string message = first_line(PQresultErrorMessage(result));
    PQclear(result);
    throw Error(where_ + ": " + message);
  }
  std::vector<std::vector<std::string>> rows(static_cast<size_t>(PQntuples(result)));
  for (int r = 0; r < PQntuples(result); ++r)
    for (int c = 0; c < PQnfields(result); ++c)
      rows[static_cast<size_t>(r)].push_back(PQgetisnull(result, r, c) ? "" : PQgetvalue(result, r, c));
  PQclear(result);
  return rows;
}

std::string pg_bin(const ConnectionInfo& info, const std::string& tool) {
  if (auto it = info.options.find("pg_bin"); it != info.options.end()) return it->second + "/" + tool;
  for (const char* version : {"17", "16", "15"}) {
    std::string path = std::string("/usr/lib/postgresql/") + version + "/bin/" + tool;
    if (std::filesystem::exists(path)) return path;
  }
  return tool;
}

}  // namespace obkeep::db
