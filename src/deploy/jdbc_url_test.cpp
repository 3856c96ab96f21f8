#include "deploy/jdbc_url.hpp"

#include <gtest/gtest.h>

namespace obkeep::deploy {

TEST(JdbcUrl, H2Forms) {
  const std::string home = "/opt/wso2-obam-1.5.0";
  auto url = parse_jdbc_url("jdbc:h2:repository/database/WSO2CARBON_DB;DB_CLOSE_ON_EXIT=FALSE;LOCK_TIMEOUT=60000", home);
  EXPECT_EQ(url.engine, Engine::h2);
  EXPECT_EQ(url.database, "/opt/wso2-obam-1.5.0/repository/database/WSO2CARBON_DB");
  EXPECT_EQ(url.options.at("LOCK_TIMEOUT"), "60000");
  EXPECT_FALSE(url.port.has_value());
  EXPECT_EQ(parse_jdbc_url("jdbc:h2:./repository/database/WSO2AM_DB;AUTO_SERVER=TRUE", home).database,
            "/opt/wso2-obam-1.5.0/repository/database/WSO2AM_DB");
  EXPECT_EQ(parse_jdbc_url("jdbc:h2:file:repository/database/jpadb;MVCC=TRUE", home).database,
            "/opt/wso2-obam-1.5.0/repository/database/jpadb");
  EXPECT_EQ(parse_jdbc_url("jdbc:h2:../tmpStatDB/WSO2AM_STATS_DB;AUTO_SERVER=TRUE", home).database,
            "/opt/tmpStatDB/WSO2AM_STATS_DB");
  EXPECT_EQ(parse_jdbc_url("jdbc:h2:/var/h2/X", home).database, "/var/h2/X");
  auto memory = parse_jdbc_url("jdbc:h2:mem:test", home);
  EXPECT_EQ(memory.h2_mode, "mem");
  EXPECT_FALSE(memory.reason.empty());
  auto tcp = parse_jdbc_url("jdbc:h2:tcp://dbhost:9093/~/db", home);
  EXPECT_EQ(tcp.host, "dbhost");
  EXPECT_EQ(tcp.port, 9093);
}

TEST(JdbcUrl, ServerForms) {
  auto mysql = parse_jdbc_url("jdbc:mysql://mysql:3306/openbank_apimgtdb?autoReconnect=true&useSSL=false", "/h");
  EXPECT_EQ(mysql.engine, Engine::mysql);
  EXPECT_EQ(mysql.host, "mysql");
  EXPECT_EQ(mysql.port, 3306);
  EXPECT_EQ(mysql.database, "openbank_apimgtdb");
  EXPECT_EQ(mysql.options.at("useSSL"), "false");
  EXPECT_EQ(parse_jdbc_url("jdbc:mariadb://db1,db2/x", "/h").host, "db1");
  EXPECT_EQ(parse_jdbc_url("jdbc:mysql://db/x", "/h").port, 3306);
  auto pg = parse_jdbc_url("jdbc:postgresql://localhost/openbank_apimgtdb", "/h");
  EXPECT_EQ(pg.engine, Engine::postgresql);
  EXPECT_EQ(pg.port, 5432);
  EXPECT_EQ(parse_jdbc_url("jdbc:postgresql://[::1]:5433/db", "/h").host, "::1");
  EXPECT_EQ(parse_jdbc_url("jdbc:postgresql:db", "/h").database, "db");
}

TEST(JdbcUrl, OracleForms) {
  auto sid = parse_jdbc_url("jdbc:oracle:thin:openbank_apimgtdb/password@localhost:1521:root", "/h");
  EXPECT_EQ(sid.engine, Engine::oracle);
  EXPECT_EQ(sid.host, "localhost");
  EXPECT_EQ(sid.database, "root");
  auto service = parse_jdbc_url("jdbc:oracle:thin:@db.example:1522/ORCLPDB1", "/h");
  EXPECT_EQ(service.port, 1522);
  EXPECT_EQ(service.database, "ORCLPDB1");
  EXPECT_EQ(parse_jdbc_url("jdbc:oracle:thin:@//db:1521/svc", "/h").database, "svc");
  auto tns = parse_jdbc_url(
      "jdbc:oracle:thin:@(DESCRIPTION=(ADDRESS=(PROTOCOL=TCP)(HOST=ora1)(PORT=1530))(CONNECT_DATA=(SERVICE_NAME=obsvc)))",
      "/h");
  EXPECT_EQ(tns.host, "ora1");
  EXPECT_EQ(tns.port, 1530);
  EXPECT_EQ(tns.database, "obsvc");
}

TEST(JdbcUrl, SqlServerForms) {
  auto ms = parse_jdbc_url("jdbc:sqlserver://mssql:1433;databaseName=OPENBANK_APIMGT_DB;SendStringParametersAsUnicode=false", "/h");
  EXPECT_EQ(ms.engine, Engine::sqlserver);
  EXPECT_EQ(ms.database, "OPENBANK_APIMGT_DB");
  EXPECT_EQ(parse_jdbc_url("jdbc:sqlserver://h\\SQLEXPRESS;databaseName=d", "/h").options.at("instanceName"),
            "SQLEXPRESS");
  auto jtds = parse_jdbc_url("jdbc:jtds:sqlserver://10.0.0.5:1433/USERDB", "/h");
  EXPECT_EQ(jtds.engine, Engine::sqlserver);
  EXPECT_EQ(jtds.database, "USERDB");
}

TEST(JdbcUrl, UnknownFormsCarryAReason) {
  EXPECT_EQ(parse_jdbc_url("jdbc:db2://h:50000/x", "/h").reason, "unsupported JDBC URL scheme 'jdbc:db2'");
  EXPECT_EQ(parse_jdbc_url("jdbc:mysql://h:notaport/x", "/h").engine, Engine::unknown);
  EXPECT_NE(parse_jdbc_url("mysql://h/x", "/h").reason, "");
  EXPECT_EQ(parse_jdbc_url("jdbc:mysql://h:3306/", "/h").engine, Engine::unknown);
  EXPECT_EQ(decode_xml_entities("a&amp;b&lt;c"), "a&b<c");
}

}  // namespace obkeep::deploy
