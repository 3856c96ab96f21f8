#include "storage/s3/s3_backend.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

#include "util/error.hpp"

namespace obkeep::storage {

namespace {

S3Backend backend_at(const std::string& url) {
  return S3Backend(url, parse_s3_url(url), S3Credentials{"key", "secret", "us-east-1"}, "");
}

const std::string pack_id = "ab" + std::string(62, '0');

}  // namespace

TEST(S3Backend, KeysMirrorTheLocalLayoutUnderThePrefix) {
  S3Backend backend = backend_at("s3://127.0.0.1:9000/bucket/site/b");
  EXPECT_EQ(backend.key_of({FileType::config, "config"}), "site/b/config");
  EXPECT_EQ(backend.key_of({FileType::pack, pack_id}), "site/b/data/ab/" + pack_id);
  EXPECT_EQ(backend.key_of({FileType::key, pack_id}), "site/b/keys/" + pack_id);
  EXPECT_EQ(backend.key_of({FileType::index, pack_id}), "site/b/index/" + pack_id);
  EXPECT_EQ(backend.key_of({FileType::snapshot, pack_id}), "site/b/snapshots/" + pack_id);
  EXPECT_EQ(backend.key_of({FileType::lock, pack_id}), "site/b/locks/" + pack_id);
  EXPECT_EQ(backend_at("s3://host/bucket").key_of({FileType::config, "config"}), "config");
  EXPECT_THROW(backend.key_of({FileType::pack, "../escape"}), Error);
}

TEST(S3Backend, MissingCredentialsAreOneLineError) {
  std::string saved = std::getenv("AWS_ACCESS_KEY_ID") ? std::getenv("AWS_ACCESS_KEY_ID") : "";
  ::unsetenv("AWS_ACCESS_KEY_ID");
  try {
    open_s3_backend("s3://127.0.0.1:9000/bucket/repo");
    ADD_FAILURE() << "opened without credentials";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("AWS_ACCESS_KEY_ID"), std::string::npos) << e.what();
  }
  if (!saved.empty()) ::setenv("AWS_ACCESS_KEY_ID", saved.c_str(), 1);
}

TEST(S3Backend, ConnectionsFromTheUrlOrTheEnvironment) {
  ::setenv("AWS_ACCESS_KEY_ID", "key", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
  ::setenv("OBKEEP_S3_CONNECTIONS", "not-a-number", 1);
  try {
    open_s3_backend("s3://127.0.0.1:9000/bucket/repo");
    ADD_FAILURE() << "accepted OBKEEP_S3_CONNECTIONS=not-a-number";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::usage);
    EXPECT_NE(std::string(e.what()).find("OBKEEP_S3_CONNECTIONS"), std::string::npos) << e.what();
  }
  // The URL wins over the environment.
  EXPECT_NO_THROW(open_s3_backend("s3://127.0.0.1:9000/bucket/repo?connections=2"));
  ::unsetenv("OBKEEP_S3_CONNECTIONS");
  EXPECT_EQ(backend_at("s3://127.0.0.1:9000/bucket/repo").connections(), default_s3_connections);
  EXPECT_EQ(backend_at("s3://127.0.0.1:9000/bucket/repo?connections=3").connections(), 3u);
  ::unsetenv("AWS_ACCESS_KEY_ID");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
}

TEST(S3Backend, UnreachableEndpointMeansNoRepository) {
  // Port 1 on the loopback refuses connections at once.
  S3Backend backend = backend_at("s3+http://127.0.0.1:1/bucket/repo");
  try {
    backend.stat({FileType::config, "config"});
    ADD_FAILURE() << "reached port 1";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::no_repository);
    EXPECT_NE(std::string(e.what()).find("http://127.0.0.1:1"), std::string::npos) << e.what();
  }
}

}  // namespace obkeep::storage
