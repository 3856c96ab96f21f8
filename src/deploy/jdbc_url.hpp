// Parsing JDBC URLs of every form WSO2 datasources use into engine, host, port, database.
#pragma once

#include <map>
#include <optional>
#include <string>

namespace obkeep::deploy {

enum class Engine { h2, postgresql, mysql, oracle, sqlserver, unknown };

const char* to_string(Engine engine);

struct JdbcUrl {
  Engine engine = Engine::unknown;
  std::string host;           // empty for H2 files
  std::optional<int> port;    // nullopt for H2 files
  std::string database;       // for H2 files: absolute path without the file suffix
  std::string h2_mode;        // H2 only: "file", "mem", "tcp", "ssl", "zip"
  std::map<std::string, std::string> options;  // URL options/parameters, keys as written
  std::string reason;         // why the engine is unknown (or the URL is not backed up)
};

// Parses `url` (XML entities already decoded). Relative H2 paths resolve against `home`,
// the server's working directory. Never throws: what cannot be parsed is `unknown` with a
// reason.
JdbcUrl parse_jdbc_url(const std::string& url, const std::string& home);

// Decodes the five XML entities (WSO2 keeps `&amp;` even inside deployment.toml).
std::string decode_xml_entities(const std::string& text);

}  // namespace obkeep::deploy
