#include "ops/cluster_recovery.hpp"

#include <nlohmann/json.hpp>

#include "db/engine.hpp"
#include "db/postgres/pg_connection.hpp"
#include "db/postgres/pg_scratch_server.hpp"
#include "db/repository_dump_store.hpp"
#include "ops/database_backup.hpp"
#include "util/error.hpp"

namespace obkeep::ops {

namespace {

// Long enough for the WAL of a busy hour; a drill has its own RTO to judge the wait by.
constexpr int start_timeout_s = 3600;

}  // namespace

BaseBackupServer server_for_base_backup(repo::Repository& repository, const repo::Snapshot& base) {
  db::RepositoryDumpSource dump(repository, base.tree);
  nlohmann::json manifest = nlohmann::json::parse(db::read_stream(dump, "manifest.json"), nullptr, false);
  if (!manifest.is_object() || !manifest.contains("server_version") || !manifest["server_version"].is_string())
    throw Error("base backup " + base.id.short_hex() + " has no readable manifest.json");
  BaseBackupServer server;
  server.version = manifest["server_version"].get<std::string>();
  server.binaries = db::PgScratchServer::binaries_for(server.version);
  return server;
}

ClusterRecovery recover_cluster(repo::Repository& repository, const deploy::Database& database, const repo::Snapshot& base,
                                const BaseBackupServer& server_binaries, const std::string& data_directory) {
  ClusterRecovery recovery;
  recovery.server_version = server_binaries.version;
  db::RepositoryDumpSource dump(repository, base.tree);
  db::RestoreOptions extract;
  extract.data_directory = data_directory;  // no restore_command: the backup's own WAL suffices
  db::RestoreReport report = db::make_engine("postgresql-base")->restore(dump, db::ConnectionInfo{}, extract);
  for (const db::TableReport& part : report.tables) recovery.bytes += part.bytes;

  db::PgScratchServer server(data_directory, server_binaries.binaries);
  server.start(start_timeout_s);
  std::string engine;
  db::ConnectionInfo source = connection_for(database, engine);
  {
    db::PgConnection connection(server.connection(database.database, source.user), database.database);
    auto tables = connection.query(
        "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' "
        "AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' ORDER BY 1");
    for (const auto& table : tables) {
      // Reading every row reads every heap page (and checks its checksum where enabled).
      recovery.rows += std::stoull(connection.query("SELECT count(*) FROM " + table[0])[0][0]);
      ++recovery.tables;
    }
  }
  server.stop();
  return recovery;
}

}  // namespace obkeep::ops
