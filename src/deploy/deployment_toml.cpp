// deployment.toml datasources (APIM 3.x/4.x, IS 5.9+, OB 2.0/3.0).
#include "deploy/deployment_toml.hpp"

#include <toml++/toml.h>

#include "util/error.hpp"

namespace obkeep::deploy {

namespace {

std::string string_at(const toml::table& table, std::string_view key) {
  if (auto value = table[key].value<std::string>()) return *value;
  return "";
}

int line_of(const toml::node& node) { return static_cast<int>(node.source().begin.line); }

void resolve_password(Datasource& datasource, const std::string& value, const toml::table* secrets) {
  const std::string prefix = "$secret{";
  if (value.rfind(prefix, 0) == 0 && value.back() == '}') {
    datasource.password_alias = value.substr(prefix.size(), value.size() - prefix.size() - 1);
    std::string secret = secrets ? string_at(*secrets, datasource.password_alias) : "";
    if (secret.size() >= 2 && secret.front() == '[' && secret.back() == ']')
      datasource.password = secret.substr(1, secret.size() - 2);
    else
      datasource.credential_note = "Secure Vault alias " + datasource.password_alias +
                                   (secret.empty() ? " (not in [secrets])" : " (encrypted)");
  } else {
    datasource.password = value;
  }
}

Datasource make_datasource(const std::string& name, const toml::table& table, const std::string& path,
                           const std::string& home, const toml::table* secrets) {
  Datasource datasource;
  datasource.name = name;
  datasource.home = home;
  datasource.file = path;
  datasource.line = line_of(table);
  datasource.url = decode_xml_entities(string_at(table, "url"));
  datasource.user = string_at(table, "username");
  datasource.driver = string_at(table, "driver");
  if (table.contains("password"))
    resolve_password(datasource, string_at(table, "password"), secrets);
  else
    datasource.credential_note = "no password in the datasource";
  datasource.jdbc = parse_jdbc_url(datasource.url, home);
  return datasource;
}

}  // namespace

std::vector<Datasource> read_deployment_toml(const std::string& path, const std::string& home) {
  toml::table document;
  try {
    document = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    throw Error(path + ":" + std::to_string(e.source().begin.line) + ": malformed TOML: " +
                std::string(e.description()));
  }
  const toml::table* secrets = document["secrets"].as_table();
  std::vector<Datasource> datasources;
  if (const toml::table* databases = document["database"].as_table()) {
    for (const auto& [id, node] : *databases) {
      const toml::table* table = node.as_table();
      if (!table || !table->contains("url")) continue;
      datasources.push_back(make_datasource("database." + std::string(id.str()), *table, path, home, secrets));
    }
  }
  if (const toml::array* list = document["datasource"].as_array()) {
    for (const toml::node& node : *list) {
      const toml::table* table = node.as_table();
      if (!table) continue;
      std::string id = string_at(*table, "id");
      if (id.empty()) throw Error(path + ":" + std::to_string(line_of(*table)) + ": [[datasource]] without an id");
      if (table->contains("url")) datasources.push_back(make_datasource(id, *table, path, home, secrets));
    }
  }
  if (const toml::table* open_banking = document["open_banking_database"]["config"].as_table())
    if (open_banking->contains("url"))
      datasources.push_back(make_datasource("open_banking_database", *open_banking, path, home, secrets));
  return datasources;
}

}  // namespace obkeep::deploy
