#include "ops/postgres_new_cluster.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "db/data_directory.hpp"
#include "db/postgres/pg_connection.hpp"
#include "db/postgres/pg_scratch_server.hpp"
#include "db/repository_dump_store.hpp"
#include "ops/database_backup.hpp"
#include "ops/database_restore.hpp"
#include "util/error.hpp"

namespace obkeep::ops {

namespace {

// The server version a logical backup was taken from (its manifest's).
std::string dumped_server_version(repo::Repository& repository, const repo::Snapshot& backup) {
  db::RepositoryDumpSource dump(repository, backup.tree);
  nlohmann::json manifest = nlohmann::json::parse(db::read_stream(dump, "manifest.json"), nullptr, false);
  if (!manifest.is_object() || !manifest.contains("server_version") || !manifest["server_version"].is_string())
    throw IntegrityError("backup " + backup.id.short_hex() + " has no readable manifest.json");
  return manifest["server_version"].get<std::string>();
}

// The server ran with fsync off (a load is faster); its files reach the disk here, once.
void sync_file_system_of(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw_system_error("cannot open " + path, errno);
  int result = ::syncfs(fd);
  int error = errno;
  ::close(fd);
  if (result != 0) throw_system_error("cannot write " + path + " to disk", error);
}

}  // namespace

NewClusterRestore restore_as_new_cluster(repo::Repository& repository, const deploy::Database& database,
                                         const repo::Snapshot& backup, const std::string& data_directory, int jobs) {
  NewClusterRestore restore;
  restore.server_version = dumped_server_version(repository, backup);
  std::string binaries = db::PgScratchServer::binaries_for(restore.server_version);
  if (binaries.empty())
    throw Error("restoring " + database.display_name() + " as a new cluster needs the PostgreSQL server of version " +
                restore.server_version + " (its major release's /usr/lib/postgresql/<major>/bin), which this machine lacks");
  std::string engine;
  db::ConnectionInfo source = connection_for(database, engine);
  restore.owner = source.user.empty() ? "postgres" : source.user;

  db::NewDataDirectory target(data_directory);  // emptied again if anything below fails
  db::PgScratchServer::initialize(data_directory, binaries);
  db::PgScratchServer server(data_directory, binaries);
  server.start(300);
  {
    db::PgConnection admin(server.connection("postgres", "postgres"), "postgres");
    if (admin.query("SELECT 1 FROM pg_roles WHERE rolname = $1", {restore.owner}).empty())
      admin.execute("CREATE ROLE " + db::quote_identifier(restore.owner) + " LOGIN");
    admin.execute("CREATE DATABASE " + db::quote_identifier(source.database) + " OWNER " +
                  db::quote_identifier(restore.owner));
  }
  // As the owner: what the load creates is the application's, as on the source (a dump
  // names no owner).
  db::RestoreOptions options;
  options.jobs = jobs;
  DatabaseRestoreOutcome outcome =
      restore_database_into(repository, database, backup, server.connection(source.database, restore.owner), options);
  for (const db::TableReport& table : outcome.report.tables) restore.rows += table.rows;
  restore.tables = outcome.report.tables.size();
  server.stop();
  sync_file_system_of(data_directory);
  target.keep();
  return restore;
}

}  // namespace obkeep::ops
