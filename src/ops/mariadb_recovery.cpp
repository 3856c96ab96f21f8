#include "ops/mariadb_recovery.hpp"

#include "db/mariadb/mariadb_connection.hpp"
#include "db/mariadb/mariadb_scratch_server.hpp"
#include "db/repository_dump_store.hpp"
#include "ops/database_backup.hpp"
#include "util/interrupt.hpp"

namespace obkeep::ops {

ServerRecovery recover_mariadb(repo::Repository& repository, const deploy::Database& database,
                               const repo::Snapshot& physical, const std::string& data_directory) {
  std::string engine;
  db::ConnectionInfo source = connection_for(database, engine);
  db::RestoreOptions options;
  options.data_directory = data_directory;
  db::RepositoryDumpSource dump(repository, physical.tree);
  ServerRecovery recovery;
  for (const db::TableReport& part : db::make_engine("mariadb-physical")->restore(dump, {}, options).tables)
    recovery.bytes += part.bytes;
  db::MariadbScratchServer server(data_directory);
  server.start(300);
  {
    db::MariadbConnection connection(server.connection(source.database), "");
    recovery.server_version = connection.query("SELECT VERSION()")[0][0];
    auto tables = connection.query("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = '" +
                                   connection.escape(source.database) + "' AND TABLE_TYPE = 'BASE TABLE'");
    for (const auto& table : tables) {
      throw_if_interrupted();
      recovery.rows += std::stoull(connection.query("SELECT COUNT(*) FROM " + db::quote_mysql_identifier(source.database) +
                                                    "." + db::quote_mysql_identifier(table[0]))[0][0]);
      ++recovery.tables;
    }
  }
  server.stop();
  return recovery;
}

}  // namespace obkeep::ops
