// The deployment model: homes → datasources → databases.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "deploy/jdbc_url.hpp"

namespace obkeep::deploy {

// One datasource as a server's config declares it.
struct Datasource {
  std::string name;   // e.g. WSO2AM_DB, or database.apim_db / WSO2UM_DB from deployment.toml
  std::string jndi;   // e.g. jdbc/WSO2AM_DB (XML only)
  std::string home;   // absolute path of the server home
  std::string file;   // absolute path of the file that declares it
  int line = 0;
  std::string url;    // entities decoded
  JdbcUrl jdbc;
  std::string user;
  std::optional<std::string> password;  // known plaintext (never printed)
  std::string password_alias;           // Secure Vault alias, when used
  std::string credential_note;          // why the password is unknown, when it is
  std::string driver;
};

// A database, once, with everything that uses it.
struct Database {
  Engine engine = Engine::unknown;
  std::string database;  // name, or for H2 the absolute path without suffix
  std::string host;
  std::optional<int> port;
  std::vector<std::string> homes;
  std::vector<std::string> datasources;
  std::string method;  // how it will be backed up
  std::string reason;  // for unknown engines and databases not backed up
  std::string user;
  std::optional<std::string> password;
  std::string credentials;  // "known" or "needed: …"
  std::map<std::string, std::string> options;  // URL options (H2: AUTO_SERVER …)
  std::string h2_mode;
  // Unique within a deployment: the H2 path, "engine://host:port/database", or for an
  // unparseable URL "unknown:<datasource>@<home>". Snapshots are tagged database=<id>.
  std::string id;
  // A name for people: the first datasource name.
  const std::string& display_name() const { return datasources.front(); }
};

struct Discovery {
  std::vector<std::string> homes;
  std::vector<std::string> datasource_files;
  std::vector<Datasource> datasources;
  std::vector<Database> databases;
};

}  // namespace obkeep::deploy
