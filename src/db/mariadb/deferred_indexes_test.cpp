#include "db/mariadb/deferred_indexes.hpp"

#include <gtest/gtest.h>

namespace obkeep::db {
namespace {

const std::string consents =
    "CREATE TABLE `UK_ACCOUNT_INITIATION` (\n"
    "  `ID` varchar(64) NOT NULL,\n"
    "  `STATUS` varchar(50) NOT NULL,\n"
    "  PRIMARY KEY (`ID`),\n"
    "  UNIQUE KEY `U` (`STATUS`,`ID`),\n"
    "  KEY `IDX_INIT_STATUS` (`STATUS`),\n"
    "  KEY `IDX_B` (`ID`(10)) COMMENT 'a, b'\n"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";

TEST(DeferredIndexes, PlainKeysMoveToAnAlterTable) {
  auto deferred = defer_secondary_indexes("SET FOREIGN_KEY_CHECKS=0;\n" + consents + ";\n");
  EXPECT_EQ(deferred.schema,
            "SET FOREIGN_KEY_CHECKS=0;\n"
            "CREATE TABLE `UK_ACCOUNT_INITIATION` (\n"
            "  `ID` varchar(64) NOT NULL,\n"
            "  `STATUS` varchar(50) NOT NULL,\n"
            "  PRIMARY KEY (`ID`),\n"
            "  UNIQUE KEY `U` (`STATUS`,`ID`)\n"
            ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;\n");
  ASSERT_EQ(deferred.tables.size(), 1u);
  EXPECT_EQ(deferred.tables[0].name, "UK_ACCOUNT_INITIATION");
  EXPECT_EQ(deferred.tables[0].add_keys,
            "ALTER TABLE `UK_ACCOUNT_INITIATION` ADD KEY `IDX_INIT_STATUS` (`STATUS`), "
            "ADD KEY `IDX_B` (`ID`(10)) COMMENT 'a, b'");
}

TEST(DeferredIndexes, TablesInForeignKeysKeepTheirKeys) {
  std::string child =
      "CREATE TABLE `B` (\n  `C` varchar(64) NOT NULL,\n  KEY `K` (`C`),\n"
      "  CONSTRAINT `F` FOREIGN KEY (`C`) REFERENCES `UK_ACCOUNT_INITIATION` (`ID`)\n) ENGINE=InnoDB";
  std::string schema = consents + ";\n" + child + ";\n";
  auto deferred = defer_secondary_indexes(schema);
  EXPECT_EQ(deferred.schema, schema);
  EXPECT_TRUE(deferred.tables.empty());
}

TEST(DeferredIndexes, QuotedNamesAndTablesWithoutKeys) {
  std::string schema = "CREATE TABLE `a``b` (\n  `X` int,\n  KEY `K` (`X`)\n);\nCREATE TABLE `c` (\n  `Y` int\n);\n";
  auto deferred = defer_secondary_indexes(schema);
  EXPECT_EQ(deferred.schema, "CREATE TABLE `a``b` (\n  `X` int\n);\nCREATE TABLE `c` (\n  `Y` int\n);\n");
  ASSERT_EQ(deferred.tables.size(), 1u);
  EXPECT_EQ(deferred.tables[0].name, "a`b");
  EXPECT_EQ(deferred.tables[0].add_keys, "ALTER TABLE `a``b` ADD KEY `K` (`X`)");
}

}  // namespace
}  // namespace obkeep::db
