// Discovery and de-duplication of databases across homes.
#include "deploy/discovery.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "deploy/datasource_xml.hpp"
#include "deploy/deployment_toml.hpp"
#include "util/error.hpp"
#include "util/text.hpp"

namespace obkeep::deploy {

namespace fs = std::filesystem;

namespace {

// Two datasources name the same database when engine, host, port and name agree (names
// compared case-insensitively for servers), or when they point at the same H2 file.
std::string identity(const JdbcUrl& url) {
  if (url.engine == Engine::h2 && url.h2_mode == "file") {
    std::error_code error;
    fs::path canonical = fs::weakly_canonical(url.database, error);
    return "h2:" + (error ? url.database : canonical.string());
  }
  std::string host = ascii_lower(url.host);
  if (host == "127.0.0.1" || host == "::1") host = "localhost";
  return std::string(to_string(url.engine)) + ":" + host + ":" + (url.port ? std::to_string(*url.port) : "") + ":" +
         (url.engine == Engine::h2 ? url.database : ascii_lower(url.database));
}

std::string method_of(const JdbcUrl& url) {
  switch (url.engine) {
    case Engine::postgresql: return "postgresql logical backup (one exported snapshot, parallel COPY)";
    case Engine::mysql: return "mysql logical backup (consistent snapshot, parallel)";
    case Engine::h2:
      if (url.h2_mode != "file") return "none: " + url.reason;
      return url.options.count("AUTO_SERVER") && ascii_lower(url.options.at("AUTO_SERVER")) == "true"
                 ? "h2 file copy when stopped; online SCRIPT through AUTO_SERVER when running"
                 : "h2 file copy when stopped; quiesce hook or crash-consistent copy when running";
    case Engine::oracle:
    case Engine::sqlserver: return "command hook (backup_command in [[database]] of the config)";
    case Engine::unknown: return "none: " + url.reason;
  }
  return "none";
}

void apply_override(Database& database, const Config* config) {
  if (!config) return;
  const DatabaseOverride* entry = nullptr;
  for (const std::string& name : database.datasources)
    if ((entry = config->override_for(name))) break;
  if (!entry) entry = config->override_for(database.database);
  if (!entry) return;
  if (!entry->user.empty()) database.user = entry->user;
  if (!entry->host.empty()) database.host = entry->host;
  if (entry->port) database.port = entry->port;
  if (!entry->password_file.empty()) {
    std::ifstream file(entry->password_file);
    std::string password;
    if (!file || !std::getline(file, password))
      throw Error(config->path + ": [[database]] " + entry->name + ": cannot read password_file " + entry->password_file);
    database.password = password;
  } else if (!entry->password_env.empty()) {
    const char* value = std::getenv(entry->password_env.c_str());
    if (!value) throw Error(config->path + ": [[database]] " + entry->name + ": environment variable " +
                            entry->password_env + " is not set");
    database.password = value;
  }
  if (database.password) database.credentials = "known";
  if (!entry->backup_command.empty()) {
    database.options["backup_command"] = entry->backup_command;
    database.method = "command hook (backup_command)";
  }
  if (!entry->restore_command.empty()) database.options["restore_command"] = entry->restore_command;
  if (!entry->java.empty()) database.options["java"] = entry->java;
  if (!entry->h2_jar.empty()) database.options["h2_jar"] = entry->h2_jar;
  if (!entry->quiesce_command.empty()) database.options["quiesce_command"] = entry->quiesce_command;
  if (!entry->resume_command.empty()) database.options["resume_command"] = entry->resume_command;
}

}  // namespace

Discovery discover(const std::vector<std::string>& homes, const Config* config) {
  Discovery discovery;
  if (homes.empty()) throw Error("no server homes given (--home DIR or [deployment] homes in the config)", ExitCode::usage);
  for (const std::string& given : homes) {
    std::string home = fs::absolute(given).lexically_normal().string();
    while (home.size() > 1 && home.back() == '/') home.pop_back();
    if (!fs::is_directory(home)) throw Error("server home does not exist: " + home);
    fs::path conf = fs::path(home) / "repository" / "conf";
    if (!fs::is_directory(conf))
      throw Error("not a WSO2 server home (no repository/conf): " + home);
    discovery.homes.push_back(home);
    SecretTable secrets = read_cipher_text_properties((conf / "security" / "cipher-text.properties").string());
    std::vector<std::string> files;
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(conf / "datasources", error))
      if (entry.path().extension() == ".xml") files.push_back(entry.path().string());
    std::sort(files.begin(), files.end());
    for (const std::string& file : files) {
      discovery.datasource_files.push_back(file);
      for (auto& datasource : read_datasource_file(file, home, secrets)) discovery.datasources.push_back(datasource);
    }
    fs::path toml = conf / "deployment.toml";
    if (fs::exists(toml)) {
      discovery.datasource_files.push_back(toml.string());
      for (auto& datasource : read_deployment_toml(toml.string(), home)) discovery.datasources.push_back(datasource);
    }
  }
  std::map<std::string, size_t> by_identity;
  for (const Datasource& datasource : discovery.datasources) {
    std::string key = datasource.jdbc.engine == Engine::unknown ? "unknown:" + datasource.url : identity(datasource.jdbc);
    auto [it, inserted] = by_identity.try_emplace(key, discovery.databases.size());
    if (inserted) {
      Database database;
      database.engine = datasource.jdbc.engine;
      database.database = datasource.jdbc.database;
      database.host = datasource.jdbc.host;
      database.port = datasource.jdbc.port;
      database.method = method_of(datasource.jdbc);
      database.reason = datasource.jdbc.reason;
      database.user = datasource.user;
      database.password = datasource.password;
      database.options = datasource.jdbc.options;
      database.h2_mode = datasource.jdbc.h2_mode;
      database.credentials = datasource.password ? "known" : "needed: " + datasource.credential_note;
      if (database.engine == Engine::unknown) database.credentials = "not needed: not backed up";
      if (database.engine == Engine::unknown)
        database.id = "unknown:" + datasource.name + "@" + datasource.home;
      else if (database.engine == Engine::h2 && database.h2_mode == "file")
        database.id = database.database;
      else
        database.id = std::string(to_string(database.engine)) + "://" + ascii_lower(database.host) + ":" +
                      (database.port ? std::to_string(*database.port) : "") + "/" + database.database;
      discovery.databases.push_back(database);
    }
    Database& database = discovery.databases[it->second];
    if (std::find(database.homes.begin(), database.homes.end(), datasource.home) == database.homes.end())
      database.homes.push_back(datasource.home);
    if (std::find(database.datasources.begin(), database.datasources.end(), datasource.name) == database.datasources.end())
      database.datasources.push_back(datasource.name);
    if (!database.password && datasource.password) {  // another node may carry the password
      database.password = datasource.password;
      database.user = datasource.user;
      database.credentials = "known";
    }
  }
  for (Database& database : discovery.databases) {
    if (database.engine == Engine::h2) database.credentials = database.password ? "known" : database.credentials;
    apply_override(database, config);
  }
  return discovery;
}

const Database& find_database(const Discovery& discovery, const std::string& name) {
  const Database* found = nullptr;
  for (const Database& database : discovery.databases) {
    bool match = database.database == name || database.id == name ||
                 std::find(database.datasources.begin(), database.datasources.end(), name) != database.datasources.end();
    if (!match) continue;
    if (found && found != &database)
      throw Error("database name " + name + " is ambiguous: it names several databases; use the database as discover lists it");
    found = &database;
  }
  if (!found) throw Error("no database named " + name + " in the deployment (see obkeep discover)");
  return *found;
}

}  // namespace obkeep::deploy
