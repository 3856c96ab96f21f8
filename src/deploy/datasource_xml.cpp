// Carbon 4 datasource XML: datasources-configuration/datasources/datasource, with
// definition/configuration holding url, username, password (maybe a Secure Vault alias).
#include "deploy/datasource_xml.hpp"

#include <pugixml.hpp>

#include <fstream>

#include "util/error.hpp"

namespace obkeep::deploy {

namespace {

std::string trim(const std::string& text) {
  size_t start = text.find_first_not_of(" \t\r\n");
  if (start == std::string::npos) return "";
  return text.substr(start, text.find_last_not_of(" \t\r\n") - start + 1);
}

// svns:secretAlias with whatever prefix the file binds the Secure Vault namespace to.
std::string secret_alias(const pugi::xml_node& password) {
  for (const pugi::xml_attribute& attribute : password.attributes()) {
    std::string name = attribute.name();
    size_t colon = name.find(':');
    if ((colon == std::string::npos ? name : name.substr(colon + 1)) == "secretAlias") return attribute.value();
  }
  return "";
}

}  // namespace

int line_of_offset(const std::string& path, size_t offset) {
  std::ifstream file(path, std::ios::binary);
  int line = 1;
  char c;
  for (size_t i = 0; i < offset && file.get(c); ++i)
    if (c == '\n') ++line;
  return line;
}

SecretTable read_cipher_text_properties(const std::string& path) {
  SecretTable secrets;
  std::ifstream file(path);
  std::string line;
  while (std::getline(file, line)) {
    line = trim(line);
    if (line.empty() || line[0] == '#' || line[0] == '!') continue;
    size_t equals = line.find('=');
    if (equals == std::string::npos) continue;
    std::string key = trim(line.substr(0, equals));
    std::string value = trim(line.substr(equals + 1));
    if (value.size() >= 2 && value.front() == '[' && value.back() == ']')
      secrets[key] = value.substr(1, value.size() - 2);
    else
      secrets[key] = std::nullopt;  // encrypted by the cipher tool
  }
  return secrets;
}

std::vector<Datasource> read_datasource_file(const std::string& path, const std::string& home,
                                             const SecretTable& secrets) {
  pugi::xml_document document;
  pugi::xml_parse_result parsed = document.load_file(path.c_str(), pugi::parse_default | pugi::parse_ws_pcdata_single);
  if (!parsed)
    throw Error(path + ":" + std::to_string(line_of_offset(path, static_cast<size_t>(parsed.offset))) +
                ": malformed XML: " + parsed.description());
  pugi::xml_node root = document.child("datasources-configuration");
  if (!root) throw Error(path + ":1: not a datasource file (no <datasources-configuration> root element)");
  std::vector<Datasource> datasources;
  for (pugi::xml_node node : root.child("datasources").children("datasource")) {
    Datasource datasource;
    datasource.home = home;
    datasource.file = path;
    datasource.line = line_of_offset(path, static_cast<size_t>(node.offset_debug()));
    datasource.name = trim(node.child_value("name"));
    datasource.jndi = trim(node.child("jndiConfig").child_value("name"));
    pugi::xml_node configuration = node.child("definition").child("configuration");
    if (datasource.name.empty())
      throw Error(path + ":" + std::to_string(datasource.line) + ": datasource without a <name>");
    if (!configuration) continue;  // not an RDBMS datasource
    datasource.url = trim(configuration.child_value("url"));
    datasource.user = trim(configuration.child_value("username"));
    datasource.driver = trim(configuration.child_value("driverClassName"));
    pugi::xml_node password = configuration.child("password");
    datasource.password_alias = secret_alias(password);
    if (!datasource.password_alias.empty()) {
      auto it = secrets.find(datasource.password_alias);
      if (it != secrets.end() && it->second)
        datasource.password = *it->second;
      else
        datasource.credential_note = "Secure Vault alias " + datasource.password_alias +
                                     (it == secrets.end() ? " (not in cipher-text.properties)" : " (encrypted)");
    } else if (password) {
      datasource.password = std::string(password.child_value());
    } else {
      datasource.credential_note = "no password in the datasource";
    }
    datasource.jdbc = parse_jdbc_url(datasource.url, home);
    datasources.push_back(std::move(datasource));
  }
  return datasources;
}

}  // namespace obkeep::deploy
