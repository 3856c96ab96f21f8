// The engine registry.
#include "db/engine.hpp"

#include "db/h2/h2_engine.hpp"
#include "db/hook/hook_engine.hpp"
#include "db/mariadb/mariadb_engine.hpp"
#include "db/mariadb/mariadb_physical_engine.hpp"
#include "db/postgres/postgres_base_engine.hpp"
#include "db/postgres/postgres_engine.hpp"
#include "util/error.hpp"

namespace obkeep::db {

std::string ConnectionInfo::describe() const {
  if (engine == "h2") return "h2:" + database;
  return engine + "://" + host + ":" + std::to_string(port) + "/" + database;
}

std::string ConnectionInfo::option(const std::string& key, const std::string& fallback) const {
  auto it = options.find(key);
  return it == options.end() || it->second.empty() ? fallback : it->second;
}

std::string ConnectionInfo::required_option(const std::string& key) const {
  std::string value = option(key);
  if (value.empty()) throw Error("database " + describe() + " needs " + key + " in its [[database]] entry of the config");
  return value;
}

std::unique_ptr<Engine> make_engine(const std::string& engine) {
  if (engine == "h2") return std::make_unique<H2Engine>();
  if (engine == "hook") return std::make_unique<HookEngine>();
  if (engine == "postgresql") return std::make_unique<PostgresEngine>();
  if (engine == "postgresql-base") return std::make_unique<PostgresBaseEngine>();
  if (engine == "mysql") return std::make_unique<MariadbEngine>();
  if (engine == "mariadb-physical") return std::make_unique<MariadbPhysicalEngine>();
  throw Error("obkeep cannot back up databases of engine '" + engine + "' natively; configure a backup_command");
}

}  // namespace obkeep::db
