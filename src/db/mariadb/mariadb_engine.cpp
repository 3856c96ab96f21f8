// MariaDB/MySQL logical backup and restore. Streams (docs/database-dumps.md):
//   schema.sql           SHOW CREATE TABLE/VIEW output, statements separated by ";\n"
//   tables/<table>.tsv   rows in InnoDB's clustered order (the primary key, else insertion
//                        order), LOAD DATA's default format: fields
//                        separated by TAB, rows by LF, NULL as \N, and \\ \t \n \r \0 escaped
//   manifest.json        server version, binlog coordinates, tables with rows and bytes
#include "db/mariadb/mariadb_engine.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "db/dump_manifest.hpp"
#include "db/mariadb/mariadb_connection.hpp"
#include "util/error.hpp"
#include "util/host.hpp"
#include "util/interrupt.hpp"

namespace obkeep::db {

using nlohmann::json;

namespace {

struct Table {
  std::string name, order_by;
  uint64_t rows = 0, bytes = 0;
  std::string stream() const { return "tables/" + name + ".tsv"; }
};

void append_escaped(std::string& out, const char* data, unsigned long length) {
  for (unsigned long i = 0; i < length; ++i) {
    char c = data[i];
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\0': out += "\\0"; break;
      default: out += c;
    }
  }
}

void dump_table(MariadbConnection& connection, Table& table, DumpSink& sink) {
  std::string sql = "SELECT * FROM " + quote_mysql_identifier(table.name);
  if (!table.order_by.empty()) sql += " ORDER BY " + table.order_by;
  if (mysql_real_query(connection.raw(), sql.data(), sql.size()) != 0) connection.fail("reading " + table.name);
  MYSQL_RES* result = mysql_use_result(connection.raw());  // streams: never a whole table in memory
  if (!result) connection.fail("reading " + table.name);
  auto writer = sink.create(table.stream());
  unsigned fields = mysql_num_fields(result);
  std::string buffer;
  while (MYSQL_ROW row = mysql_fetch_row(result)) {
    unsigned long* lengths = mysql_fetch_lengths(result);
    for (unsigned i = 0; i < fields; ++i) {
      if (i) buffer += '\t';
      if (!row[i])
        buffer += "\\N";
      else
        append_escaped(buffer, row[i], lengths[i]);
    }
    buffer += '\n';
    table.rows++;
    if (buffer.size() >= (1 << 20)) {
      writer->write(as_bytes(buffer));
      table.bytes += buffer.size();
      buffer.clear();
    }
  }
  bool failed = mysql_errno(connection.raw()) != 0;
  mysql_free_result(result);
  if (failed) connection.fail("reading " + table.name);
  writer->write(as_bytes(buffer));
  table.bytes += buffer.size();
  writer->close();
}

template <typename Item, typename Work>
void run_parallel(std::vector<std::unique_ptr<MariadbConnection>>& connections, std::vector<Item>& items, Work work) {
  std::atomic<size_t> next{0};
  std::mutex mutex;
  std::exception_ptr failure;
  std::vector<std::thread> threads;
  for (auto& connection : connections) {
    threads.emplace_back([&, c = connection.get()] {
      try {
        for (size_t index; (index = next++) < items.size();) {
          {
            std::lock_guard lock(mutex);
            if (failure) return;
          }
          throw_if_interrupted();
          work(*c, items[index]);
        }
      } catch (...) {
        std::lock_guard lock(mutex);
        if (!failure) failure = std::current_exception();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  if (failure) std::rethrow_exception(failure);
}

// LOAD DATA LOCAL INFILE callbacks: the "file" is a stream of the dump.
struct InfileContext {
  DumpSource* source;
  std::unique_ptr<ByteReader> reader;
  std::string error;
};

int infile_init(void** pointer, const char* name, void* user) {
  auto* context = static_cast<InfileContext*>(user);
  *pointer = context;
  try {
    context->reader = context->source->open(name);
  } catch (const std::exception& e) {
    context->error = e.what();
    return 1;
  }
  return 0;
}
int infile_read(void* pointer, char* buffer, unsigned int length) {
  auto* context = static_cast<InfileContext*>(pointer);
  try {
    return static_cast<int>(context->reader->read(reinterpret_cast<uint8_t*>(buffer), length));
  } catch (const std::exception& e) {
    context->error = e.what();
    return -1;
  }
}
void infile_end(void*) {}
int infile_error(void* pointer, char* message, unsigned int length) {
  auto* context = static_cast<InfileContext*>(pointer);
  std::snprintf(message, length, "%s", context->error.c_str());
  return 2000;
}

}  // namespace

BackupReport MariadbEngine::backup(const ConnectionInfo& source, DumpSink& sink, const BackupOptions& options) {
  MariadbConnection coordinator(source, source.database);
  std::vector<Table> tables;
  for (const auto& row : coordinator.query(
           "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = '" + coordinator.escape(source.database) +
           "' AND TABLE_TYPE = 'BASE TABLE' ORDER BY DATA_LENGTH DESC, TABLE_NAME"))
    tables.push_back({row[0], "", 0, 0});
  std::string schema = "SET FOREIGN_KEY_CHECKS=0;\n";
  for (Table& table : tables) {
    schema += coordinator.query("SHOW CREATE TABLE " + quote_mysql_identifier(table.name))[0][1] + ";\n";
    std::string keys;
    for (const auto& key : coordinator.query("SHOW KEYS FROM " + quote_mysql_identifier(table.name) +
                                             " WHERE Key_name = 'PRIMARY'"))
      keys += (keys.empty() ? "" : ", ") + quote_mysql_identifier(key[4]);
    // Without a primary key InnoDB clusters by a hidden row id: a plain scan is insertion
    // order, stable across backups, and needs no sort.
    table.order_by = keys;
  }
  for (const auto& row : coordinator.query(
           "SELECT TABLE_NAME FROM information_schema.VIEWS WHERE TABLE_SCHEMA = '" + coordinator.escape(source.database) + "'"))
    schema += coordinator.query("SHOW CREATE VIEW " + quote_mysql_identifier(row[0]))[0][1] + ";\n";

  // One instant for all workers: under a global read lock nothing commits while each
  // worker starts its snapshot.
  int jobs = std::max(1, std::min<int>(options.jobs, static_cast<int>(tables.size())));
  std::vector<std::unique_ptr<MariadbConnection>> workers;
  for (int i = 0; i < jobs; ++i) workers.push_back(std::make_unique<MariadbConnection>(source, source.database));
  std::string consistency;
  json binlog = nullptr;
  bool locked = true;
  try {
    coordinator.execute("FLUSH TABLES WITH READ LOCK");
  } catch (const Error&) {
    locked = false;  // no RELOAD privilege: fall back to one worker, one snapshot
    workers.resize(1);
  }
  for (auto& worker : workers) {
    worker->execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ");
    worker->execute("START TRANSACTION WITH CONSISTENT SNAPSHOT");
  }
  if (locked) {
    auto status = coordinator.query("SHOW MASTER STATUS");
    if (!status.empty()) binlog = {{"file", status[0][0]}, {"position", status[0][1]}};
    coordinator.execute("UNLOCK TABLES");
    consistency = "consistent snapshot of " + std::to_string(workers.size()) + " workers under FLUSH TABLES WITH READ LOCK";
  } else {
    consistency = "consistent snapshot of one worker (no RELOAD privilege for a global read lock)";
  }
  std::string version = coordinator.query("SELECT VERSION()")[0][0];
  {
    auto writer = sink.create("schema.sql");
    writer->write(as_bytes(schema));
    writer->close();
  }
  run_parallel(workers, tables, [&](MariadbConnection& connection, Table& table) { dump_table(connection, table, sink); });

  BackupReport report;
  report.consistency = consistency;
  json manifest = {{"engine", "mysql"},  {"server_version", version}, {"binlog", binlog},
                   {"time", format_rfc3339(now_unix_nanos())}, {"database", source.database}, {"tables", json::array()}};
  for (const Table& table : tables) {
    report.tables.push_back({table.name, table.rows, table.bytes});
    manifest["tables"].push_back({{"name", table.name}, {"rows", table.rows}, {"bytes", table.bytes}, {"stream", table.stream()}});
  }
  write_stream(sink, "manifest.json", manifest.dump(2));
  return report;
}

RestoreReport MariadbEngine::restore(DumpSource& source, const ConnectionInfo& target, const RestoreOptions& options) {
  DumpManifest manifest = decode_dump_manifest(read_stream(source, "manifest.json"));
  {
    MariadbConnection server(target, "");
    std::string name = quote_mysql_identifier(target.database);
    auto existing = server.query("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '" +
                                 server.escape(target.database) + "'");
    bool exists = !server.query("SHOW DATABASES LIKE '" + server.escape(target.database) + "'").empty();
    if (exists && existing[0][0] != "0") {
      if (!options.drop_existing)
        throw Error("database " + target.describe() + " already has tables; restore into a new database or use --drop-existing");
      server.execute("DROP DATABASE " + name);
      exists = false;
    }
    if (!exists) {
      if (!options.create_database) throw Error("database " + target.describe() + " does not exist");
      server.execute("CREATE DATABASE " + name);
    }
  }
  {
    MariadbConnection connection(target, target.database);
    connection.execute_script(read_stream(source, "schema.sql"));
  }
  struct Load {
    std::string name, stream;
    uint64_t rows = 0;
  };
  std::vector<Load> loads;
  for (const DumpManifest::Table& table : manifest.tables) loads.push_back({table.name, table.stream});
  int jobs = std::max(1, std::min<int>(options.jobs, static_cast<int>(loads.size())));
  std::vector<std::unique_ptr<MariadbConnection>> workers;
  for (int i = 0; i < jobs; ++i) {
    workers.push_back(std::make_unique<MariadbConnection>(target, target.database, true));
    workers.back()->execute("SET FOREIGN_KEY_CHECKS=0, UNIQUE_CHECKS=0, SQL_MODE='NO_AUTO_VALUE_ON_ZERO'");
  }
  run_parallel(workers, loads, [&](MariadbConnection& connection, Load& load) {
    InfileContext context{&source, nullptr, ""};
    mysql_set_local_infile_handler(connection.raw(), infile_init, infile_read, infile_end, infile_error, &context);
    std::string sql = "LOAD DATA LOCAL INFILE '" + connection.escape(load.stream) + "' INTO TABLE " +
                      quote_mysql_identifier(load.name) + " CHARACTER SET binary";
    if (mysql_real_query(connection.raw(), sql.data(), sql.size()) != 0)
      connection.fail("loading " + load.name + (context.error.empty() ? "" : " (" + context.error + ")"));
    load.rows = mysql_affected_rows(connection.raw());
  });
  RestoreReport report;
  for (const Load& load : loads) report.tables.push_back({load.name, load.rows, 0});
  return report;
}

}  // namespace obkeep::db
