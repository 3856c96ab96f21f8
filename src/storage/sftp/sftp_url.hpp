// The parts of an sftp:// repository URL.
#pragma once

#include <optional>
#include <string>

namespace obkeep::storage {

// sftp://[user@]host[:port]/path. The path is absolute on the server; a path that starts
// with "/~/" is relative to the login (home) directory and is kept without that prefix,
// because an SFTP server resolves relative paths against the login directory.
struct SftpUrl {
  std::string user;         // empty: from the ssh config, else the local user
  std::string host;         // without brackets for an IPv6 literal
  std::optional<int> port;  // absent: from the ssh config, else 22
  std::string path;         // absolute ("/srv/repo") or relative to the login directory ("repo")
};

// Throws Error (usage) naming the URL when it is not of the form above. `scheme` is
// "sftp://", or "ssh://" for obkeep serve (the same parts, another program on the server).
SftpUrl parse_sftp_url(const std::string& url, const std::string& scheme = "sftp://");

}  // namespace obkeep::storage
