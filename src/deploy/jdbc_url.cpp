// JDBC URL forms: H2 (file, relative, ~, mem, tcp), MySQL/MariaDB, PostgreSQL, Oracle thin
// (SID, service, //, TNS descriptor), SQL Server and jTDS.
#include "deploy/jdbc_url.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <regex>

#include "util/text.hpp"

namespace obkeep::deploy {

namespace {

bool starts_with(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

std::optional<int> parse_port(const std::string& text) {
  if (text.empty() || text.size() > 5 || !std::all_of(text.begin(), text.end(), ::isdigit)) return std::nullopt;
  int port = std::stoi(text);
  if (port <= 0 || port > 65535) return std::nullopt;
  return port;
}

JdbcUrl unknown(const std::string& reason) {
  JdbcUrl url;
  url.reason = reason;
  return url;
}

// Splits "host[:port]" (IPv6 in brackets); false when the port is not a number.
bool split_host_port(const std::string& text, std::string& host, std::optional<int>& port, int default_port) {
  port = default_port;
  if (starts_with(text, "[")) {
    size_t close = text.find(']');
    if (close == std::string::npos) return false;
    host = text.substr(1, close - 1);
    std::string rest = text.substr(close + 1);
    if (rest.empty()) return true;
    if (rest[0] != ':') return false;
    port = parse_port(rest.substr(1));
    return port.has_value();
  }
  size_t colon = text.rfind(':');
  host = colon == std::string::npos ? text : text.substr(0, colon);
  if (colon != std::string::npos) {
    port = parse_port(text.substr(colon + 1));
    if (!port) return false;
  }
  return !host.empty();
}

void parse_query(const std::string& query, char separator, std::map<std::string, std::string>& options) {
  size_t start = 0;
  while (start <= query.size()) {
    size_t end = query.find(separator, start);
    std::string pair = query.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!pair.empty()) {
      size_t equals = pair.find('=');
      options[pair.substr(0, equals)] = equals == std::string::npos ? "" : pair.substr(equals + 1);
    }
    if (end == std::string::npos) break;
    start = end + 1;
  }
}

JdbcUrl parse_h2(const std::string& rest, const std::string& home) {
  JdbcUrl url;
  url.engine = Engine::h2;
  size_t semicolon = rest.find(';');
  std::string location = rest.substr(0, semicolon);
  if (semicolon != std::string::npos) parse_query(rest.substr(semicolon + 1), ';', url.options);
  std::string lowered = ascii_lower(location);
  if (starts_with(lowered, "mem:") || location.empty()) {
    url.h2_mode = "mem";
    url.database = location.empty() ? "" : location.substr(4);
    url.reason = "in-memory H2 database: nothing on disk to back up";
    return url;
  }
  for (const char* remote : {"tcp://", "ssl://"}) {
    if (starts_with(lowered, remote)) {
      url.h2_mode = std::string(remote).substr(0, 3);
      std::string after = location.substr(6);
      size_t slash = after.find('/');
      if (slash == std::string::npos) return unknown("H2 server URL without a database path: jdbc:h2:" + rest);
      if (!split_host_port(after.substr(0, slash), url.host, url.port, 9092))
        return unknown("H2 server URL with a bad host or port: jdbc:h2:" + rest);
      url.database = after.substr(slash + 1);
      url.reason = "H2 database served by a remote H2 server: back it up on that server";
      return url;
    }
  }
  url.h2_mode = "file";
  std::string path = location;
  if (starts_with(lowered, "file:")) path = location.substr(5);
  if (starts_with(lowered, "zip:")) {
    url.h2_mode = "zip";
    path = location.substr(4);
  }
  if (starts_with(path, "~")) {
    const char* user_home = std::getenv("HOME");
    path = std::string(user_home ? user_home : "") + path.substr(1);
  }
  std::filesystem::path resolved(path);
  if (resolved.is_relative()) resolved = std::filesystem::path(home) / resolved;
  url.database = resolved.lexically_normal().string();
  return url;
}

JdbcUrl parse_server_url(Engine engine, const std::string& rest, int default_port, const std::string& original) {
  // rest: "//host[:port][,host2]/database[?params]"
  if (!starts_with(rest, "//")) return unknown("cannot find //host in " + original);
  std::string after = rest.substr(2);
  size_t slash = after.find('/');
  size_t question = after.find('?');
  std::string authority = after.substr(0, std::min(slash, question));
  authority = authority.substr(0, authority.find(','));  // first host of a failover list
  size_t at = authority.rfind('@');
  if (at != std::string::npos) authority = authority.substr(at + 1);
  JdbcUrl url;
  url.engine = engine;
  if (!split_host_port(authority, url.host, url.port, default_port))
    return unknown("bad host or port in " + original);
  if (slash != std::string::npos && (question == std::string::npos || slash < question)) {
    std::string path = after.substr(slash + 1);
    url.database = path.substr(0, path.find('?'));
  }
  if (question != std::string::npos) parse_query(after.substr(question + 1), '&', url.options);
  if (url.database.empty()) return unknown("no database name in " + original);
  return url;
}

JdbcUrl parse_oracle(const std::string& rest, const std::string& original) {
  // rest after "jdbc:oracle:thin:" : [user/pass]@host:port:sid | @host:port/service | @//host:port/service | @(DESCRIPTION=...)
  size_t at = rest.find('@');
  if (at == std::string::npos) return unknown("no @host in Oracle URL " + original);
  std::string target = rest.substr(at + 1);
  JdbcUrl url;
  url.engine = Engine::oracle;
  url.port = 1521;
  if (starts_with(target, "(")) {
    std::smatch match;
    std::string upper = target;
    std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
    auto find = [&](const char* key) -> std::string {
      std::regex pattern(std::string("\\(\\s*") + key + "\\s*=\\s*([^)\\s]+)\\s*\\)");
      std::smatch m;
      if (std::regex_search(upper, m, pattern)) {
        size_t position = static_cast<size_t>(m.position(1));
        return target.substr(position, static_cast<size_t>(m.length(1)));
      }
      return "";
    };
    url.host = find("HOST");
    std::string port = find("PORT");
    if (!port.empty()) url.port = parse_port(port);
    url.database = find("SERVICE_NAME");
    if (url.database.empty()) url.database = find("SID");
    if (url.host.empty() || !url.port || url.database.empty())
      return unknown("incomplete Oracle TNS descriptor in " + original);
    return url;
  }
  if (starts_with(target, "//")) target = target.substr(2);
  std::regex sid(R"(^([^:/]+)(?::(\d+))?:([^:/?]+)$)");
  std::regex service(R"(^([^:/]+)(?::(\d+))?/([^:/?]+)$)");
  std::smatch match;
  if (std::regex_match(target, match, service) || std::regex_match(target, match, sid)) {
    url.host = match[1];
    if (match[2].matched) url.port = parse_port(match[2]);
    url.database = match[3];
    if (!url.port) return unknown("bad port in " + original);
    return url;
  }
  return unknown("unrecognised Oracle thin URL " + original);
}

JdbcUrl parse_sqlserver(const std::string& rest, const std::string& original) {
  // "//host[\instance][:port][;key=value...]"
  if (!starts_with(rest, "//")) return unknown("cannot find //host in " + original);
  std::string after = rest.substr(2);
  size_t semicolon = after.find(';');
  std::string authority = after.substr(0, semicolon);
  JdbcUrl url;
  url.engine = Engine::sqlserver;
  if (semicolon != std::string::npos) parse_query(after.substr(semicolon + 1), ';', url.options);
  size_t backslash = authority.find('\\');
  if (backslash != std::string::npos) {
    std::string instance = authority.substr(backslash + 1);
    size_t colon = instance.find(':');
    url.options["instanceName"] = instance.substr(0, colon);
    authority = authority.substr(0, backslash) + (colon == std::string::npos ? "" : instance.substr(colon));
  }
  if (!split_host_port(authority, url.host, url.port, 1433)) return unknown("bad host or port in " + original);
  for (const auto& [key, value] : url.options)
    if (ascii_lower(key) == "databasename" || ascii_lower(key) == "database") url.database = value;
  if (url.database.empty()) return unknown("no databaseName in " + original);
  return url;
}

JdbcUrl parse_jtds(const std::string& rest, const std::string& original) {
  // "//host[:port][/database][;props]"
  if (!starts_with(rest, "//")) return unknown("cannot find //host in " + original);
  std::string after = rest.substr(2);
  size_t semicolon = after.find(';');
  std::string main = after.substr(0, semicolon);
  JdbcUrl url;
  url.engine = Engine::sqlserver;
  if (semicolon != std::string::npos) parse_query(after.substr(semicolon + 1), ';', url.options);
  size_t slash = main.find('/');
  if (!split_host_port(main.substr(0, slash), url.host, url.port, 1433)) return unknown("bad host or port in " + original);
  if (slash != std::string::npos) url.database = main.substr(slash + 1);
  if (url.database.empty() && url.options.count("databaseName")) url.database = url.options["databaseName"];
  if (url.database.empty()) return unknown("no database name in " + original);
  return url;
}

}  // namespace

const char* to_string(Engine engine) {
  switch (engine) {
    case Engine::h2: return "h2";
    case Engine::postgresql: return "postgresql";
    case Engine::mysql: return "mysql";
    case Engine::oracle: return "oracle";
    case Engine::sqlserver: return "sqlserver";
    case Engine::unknown: return "unknown";
  }
  return "unknown";
}

std::string decode_xml_entities(const std::string& text) {
  static const std::pair<const char*, const char*> entities[] = {
      {"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&apos;", "'"}};
  std::string out;
  for (size_t i = 0; i < text.size();) {
    bool replaced = false;
    if (text[i] == '&') {
      for (const auto& [entity, value] : entities) {
        if (text.compare(i, std::char_traits<char>::length(entity), entity) == 0) {
          out += value;
          i += std::char_traits<char>::length(entity);
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) out += text[i++];
  }
  return out;
}

JdbcUrl parse_jdbc_url(const std::string& raw, const std::string& home) {
  std::string text = raw;
  text.erase(0, text.find_first_not_of(" \t\r\n"));
  text.erase(text.find_last_not_of(" \t\r\n") + 1);
  std::string lowered = ascii_lower(text);
  if (text.empty()) return unknown("empty JDBC URL");
  if (!starts_with(lowered, "jdbc:")) return unknown("not a JDBC URL: " + text);
  if (starts_with(lowered, "jdbc:h2:")) return parse_h2(text.substr(8), home);
  for (const char* prefix : {"jdbc:mysql:loadbalance:", "jdbc:mysql:replication:", "jdbc:mysql:", "jdbc:mariadb:"})
    if (starts_with(lowered, prefix)) return parse_server_url(Engine::mysql, text.substr(std::strlen(prefix)), 3306, text);
  if (starts_with(lowered, "jdbc:postgresql:")) {
    std::string rest = text.substr(16);
    if (!starts_with(rest, "//")) {  // jdbc:postgresql:database
      JdbcUrl url;
      url.engine = Engine::postgresql;
      url.host = "localhost";
      url.port = 5432;
      url.database = rest.substr(0, rest.find('?'));
      if (url.database.empty()) return unknown("no database name in " + text);
      return url;
    }
    return parse_server_url(Engine::postgresql, rest, 5432, text);
  }
  if (starts_with(lowered, "jdbc:oracle:thin:")) return parse_oracle(text.substr(17), text);
  if (starts_with(lowered, "jdbc:sqlserver:")) return parse_sqlserver(text.substr(15), text);
  if (starts_with(lowered, "jdbc:jtds:sqlserver:")) return parse_jtds(text.substr(20), text);
  std::string scheme = text.substr(0, text.find(':', 5));
  return unknown("unsupported JDBC URL scheme '" + scheme + "'");
}

}  // namespace obkeep::deploy
