// Tests for sftp:// URL parsing.
#include "storage/sftp/sftp_url.hpp"

#include <gtest/gtest.h>

#include "util/error.hpp"

namespace obkeep::storage {
namespace {

TEST(SftpUrl, ParsesUserHostPortAndAbsolutePath) {
  SftpUrl url = parse_sftp_url("sftp://backup@dr.example.com:2222/srv/obkeep/repo");
  EXPECT_EQ(url.user, "backup");
  EXPECT_EQ(url.host, "dr.example.com");
  EXPECT_EQ(url.port, 2222);
  EXPECT_EQ(url.path, "/srv/obkeep/repo");
}

TEST(SftpUrl, UserAndPortAreOptional) {
  SftpUrl url = parse_sftp_url("sftp://drsite/repo/");
  EXPECT_EQ(url.user, "");
  EXPECT_EQ(url.host, "drsite");
  EXPECT_FALSE(url.port.has_value());
  EXPECT_EQ(url.path, "/repo");  // a trailing slash is dropped
}

TEST(SftpUrl, TildeMeansRelativeToTheLoginDirectory) {
  EXPECT_EQ(parse_sftp_url("sftp://h/~/backups/repo").path, "backups/repo");
  EXPECT_EQ(parse_sftp_url("sftp://h/~").path, ".");
}

TEST(SftpUrl, BracketedIpv6Host) {
  SftpUrl url = parse_sftp_url("sftp://root@[::1]:22/r");
  EXPECT_EQ(url.host, "::1");
  EXPECT_EQ(url.port, 22);
}

TEST(SftpUrl, RootPathStaysSlash) { EXPECT_EQ(parse_sftp_url("sftp://h/").path, "/"); }

TEST(SftpUrl, RejectsMalformedUrlsAsUsageErrors) {
  for (const char* bad : {"sftp://host", "sftp:///path", "sftp://host:0/p", "sftp://host:99999/p", "sftp://host:x/p",
                          "sftp://@host/p", "sftp://[::1/p", "s3://host/p"}) {
    try {
      parse_sftp_url(bad);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::usage) << bad;
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace obkeep::storage
