#include "ops/database_restore.hpp"

#include <filesystem>

#include "ops/database_backup.hpp"
#include "db/repository_dump_store.hpp"
#include "deploy/jdbc_url.hpp"
#include "util/error.hpp"

namespace obkeep::ops {

namespace {

DatabaseRestoreOutcome restore_with(repo::Repository& repository, const std::string& engine_name,
                                    const db::ConnectionInfo& source, const repo::Snapshot& snapshot,
                                    const db::ConnectionInfo& target, const db::RestoreOptions& options) {
  db::RepositoryDumpSource dump(repository, snapshot.tree);
  return {db::make_engine(engine_name)->restore(dump, target, options), target.describe(), source, target};
}

}  // namespace

DatabaseRestoreOutcome restore_database(repo::Repository& repository, const deploy::Database& database,
                                        const repo::Snapshot& snapshot, const DatabaseTarget& target_url,
                                        const db::RestoreOptions& options) {
  std::string engine_name;
  db::ConnectionInfo source = connection_for(database, engine_name);
  deploy::JdbcUrl url = deploy::parse_jdbc_url(target_url.jdbc_url, std::filesystem::current_path().string());
  if (url.engine == deploy::Engine::unknown) throw Error("--to: " + url.reason);
  if (url.engine != database.engine && engine_name != "hook")
    throw Error(std::string("--to names a ") + deploy::to_string(url.engine) + " database but " + database.display_name() +
                " is " + deploy::to_string(database.engine));
  db::ConnectionInfo target = source;
  target.host = url.host;
  target.port = url.port.value_or(0);
  target.database = url.database;
  if (!target_url.user.empty()) target.user = target_url.user;
  if (!target_url.password.empty()) target.password = target_url.password;
  // Whether the source's server runs says nothing about the target; engines check the
  // target itself (H2: its lock file and file locks).
  target.options.erase("server_running");
  for (const auto& [key, value] : url.options) target.options[key] = value;
  return restore_with(repository, engine_name, source, snapshot, target, options);
}

DatabaseRestoreOutcome restore_database_into(repo::Repository& repository, const deploy::Database& database,
                                             const repo::Snapshot& snapshot, const db::ConnectionInfo& target,
                                             const db::RestoreOptions& options) {
  std::string engine_name;
  db::ConnectionInfo source = connection_for(database, engine_name);
  return restore_with(repository, engine_name, source, snapshot, target, options);
}

}  // namespace obkeep::ops
