#include "db/dump_manifest.hpp"

#include <gtest/gtest.h>

#include "util/error.hpp"

namespace obkeep::db {
namespace {

TEST(DumpManifest, OneStreamPerTable) {
  auto manifest = decode_dump_manifest(R"({"engine": "mysql", "tables": [{"name": "T", "stream": "tables/T.tsv"}]})");
  ASSERT_EQ(manifest.tables.size(), 1u);
  EXPECT_EQ(manifest.tables[0].streams, std::vector<std::string>{"tables/T.tsv"});
}

TEST(DumpManifest, ChunkedTablesListTheirStreamsInKeyOrder) {
  auto manifest = decode_dump_manifest(
      R"({"engine": "mysql", "tables": [{"name": "T", "key": "ID", "chunks": [{"stream": "tables/T/0.tsv", "rows": 3},
          {"stream": "tables/T/1.tsv", "rows": 2}]}]})");
  ASSERT_EQ(manifest.tables.size(), 1u);
  EXPECT_EQ(manifest.tables[0].streams, (std::vector<std::string>{"tables/T/0.tsv", "tables/T/1.tsv"}));
}

TEST(DumpManifest, BadChunksAreRefused) {
  EXPECT_THROW(decode_dump_manifest(R"({"engine": "mysql", "tables": [{"name": "T", "chunks": []}]})"), IntegrityError);
  EXPECT_THROW(decode_dump_manifest(R"({"engine": "mysql", "tables": [{"name": "T", "chunks": [{"stream": "../x"}]}]})"),
               IntegrityError);
  EXPECT_THROW(decode_dump_manifest(R"({"engine": "mysql", "tables": [{"name": "T", "chunks": [{}]}]})"), IntegrityError);
  EXPECT_THROW(decode_dump_manifest(R"({"engine": "mysql", "tables": [{"name": "T"}]})"), IntegrityError);
}

}  // namespace
}  // namespace obkeep::db
