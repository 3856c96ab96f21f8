// Parsing sftp://[user@]host[:port]/path repository URLs.
#include "storage/sftp/sftp_url.hpp"

#include <charconv>

#include "util/error.hpp"

namespace obkeep::storage {

namespace {

[[noreturn]] void reject_sftp_url(const std::string& url, const std::string& reason) {
  std::string scheme = url.substr(0, url.find(':'));
  if (scheme != "ssh") scheme = "sftp";
  throw Error("invalid " + scheme + " URL " + url + ": " + reason + " (want " + scheme + "://[user@]host[:port]/path)",
              ExitCode::usage);
}

int parse_port(const std::string& url, const std::string& text) {
  int port = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || port < 1 || port > 65535)
    reject_sftp_url(url, "bad port '" + text + "'");
  return port;
}

// Splits "host", "host:port", "[v6]" or "[v6]:port".
void parse_host_port(const std::string& url, const std::string& authority, SftpUrl& parsed) {
  std::string port_text;
  bool has_port = false;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string::npos) reject_sftp_url(url, "unclosed '['");
    parsed.host = authority.substr(1, close - 1);
    std::string rest = authority.substr(close + 1);
    if (!rest.empty() && rest[0] != ':') reject_sftp_url(url, "unexpected text after ']'");
    has_port = !rest.empty();
    if (has_port) port_text = rest.substr(1);
  } else {
    size_t colon = authority.find(':');
    parsed.host = authority.substr(0, colon);
    has_port = colon != std::string::npos;
    if (has_port) port_text = authority.substr(colon + 1);
  }
  if (parsed.host.empty()) reject_sftp_url(url, "no host");
  if (has_port) parsed.port = parse_port(url, port_text);
}

// "/~/x" is "x": the server resolves a relative path against the login directory.
std::string server_path(const std::string& url_path) {
  if (url_path == "/~" || url_path == "/~/") return ".";
  if (url_path.rfind("/~/", 0) == 0) return url_path.substr(3);
  return url_path;
}

}  // namespace

SftpUrl parse_sftp_url(const std::string& url, const std::string& scheme) {
  if (url.rfind(scheme, 0) != 0) reject_sftp_url(url, "not an " + scheme + " URL");
  std::string rest = url.substr(scheme.size());
  size_t slash = rest.find('/');
  if (slash == std::string::npos) reject_sftp_url(url, "no path");
  std::string authority = rest.substr(0, slash);
  std::string path = rest.substr(slash);
  SftpUrl parsed;
  size_t at = authority.rfind('@');
  if (at != std::string::npos) {
    parsed.user = authority.substr(0, at);
    if (parsed.user.empty()) reject_sftp_url(url, "empty user");
    authority = authority.substr(at + 1);
  }
  parse_host_port(url, authority, parsed);
  parsed.path = server_path(path);
  while (parsed.path.size() > 1 && parsed.path.back() == '/') parsed.path.pop_back();
  return parsed;
}

}  // namespace obkeep::storage
