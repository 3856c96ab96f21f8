// PostgreSQL logical backup and restore. Streams (docs/database-dumps.md):
//   schema-pre.sql   pg_dump --section=pre-data of the exported snapshot (tables, types…)
//   sequences.sql    setval() of every sequence as of the snapshot
//   tables/<schema>.<table>.copy   COPY text format, rows in physical order (appended rows
//                                  land at the end, so unchanged pages deduplicate)
//   schema-post.sql  pg_dump --section=post-data (indexes, constraints, triggers)
//   manifest.json    server version, snapshot, time, tables with rows and bytes
#include "db/postgres/postgres_engine.hpp"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "db/dump_manifest.hpp"
#include "db/postgres/pg_connection.hpp"
#include "util/error.hpp"
#include "util/host.hpp"
#include "util/interrupt.hpp"
#include "util/subprocess.hpp"

namespace obkeep::db {

using nlohmann::json;

namespace {

struct PgTable {
  std::string schema, name;
  uint64_t rows = 0, bytes = 0;
  std::string stream() const { return "tables/" + schema + "." + name + ".copy"; }
  std::string qualified() const { return quote_identifier(schema) + "." + quote_identifier(name); }
};

// pg_dump's plain output may carry psql meta-commands (\restrict …), which are not SQL.
std::string strip_meta_commands(const std::string& sql) {
  std::string out;
  size_t start = 0;
  while (start < sql.size()) {
    size_t end = sql.find('\n', start);
    if (end == std::string::npos) end = sql.size();
    if (sql[start] != '\\') out.append(sql, start, end - start + 1);
    start = end + 1;
  }
  return out;
}

void dump_schema(const ConnectionInfo& source, const std::string& snapshot, const std::string& section,
                 DumpSink& sink, const std::string& stream) {
  auto writer = sink.create(stream);
  SubprocessResult result = run_subprocess(
      {pg_bin(source, "pg_dump"), "--section=" + section, "--snapshot=" + snapshot, "--no-owner",
       "--no-acl", "-h", source.host, "-p", std::to_string(source.port), "-U", source.user, "-d", source.database},
      {{"PGPASSWORD", source.password}, {"PGCONNECT_TIMEOUT", "10"}}, [&](ByteView data) { writer->write(data); });
  if (result.exit_code != 0)
    throw Error("pg_dump of " + source.describe() + " failed (exit " + std::to_string(result.exit_code) + "): " +
                result.stderr_tail);
  writer->close();
}

void copy_out(PgConnection& connection, PgTable& table, DumpSink& sink) {
  // Physical order: no sort on the server, and a table that only grows or updates in place
  // dumps to mostly the same chunks as last time (a primary-key order scatters UUID keys).
  std::string sql = "COPY " + table.qualified() + " TO STDOUT";
  if (!PQsendQuery(connection.raw(), sql.c_str())) connection.fail("COPY of " + table.qualified());
  PGresult* start = PQgetResult(connection.raw());
  bool ok = PQresultStatus(start) == PGRES_COPY_OUT;
  PQclear(start);
  if (!ok) connection.fail("COPY of " + table.qualified());
  auto writer = sink.create(table.stream());
  char* row = nullptr;
  int length;
  while ((length = PQgetCopyData(connection.raw(), &row, 0)) > 0) {
    writer->write(ByteView(reinterpret_cast<uint8_t*>(row), static_cast<size_t>(length)));
    table.bytes += static_cast<uint64_t>(length);
    table.rows++;  // COPY text format sends one row per message
    PQfreemem(row);
  }
  if (length == -2) connection.fail("COPY of " + table.qualified());
  while (PGresult* result = PQgetResult(connection.raw())) {
    ok = PQresultStatus(result) == PGRES_COMMAND_OK;
    PQclear(result);
    if (!ok) connection.fail("COPY of " + table.qualified());
  }
  writer->close();
}

void copy_in(PgConnection& connection, const std::string& qualified, ByteReader& reader, uint64_t& rows) {
  std::string sql = "COPY " + qualified + " FROM STDIN";
  PGresult* start = PQexec(connection.raw(), sql.c_str());
  bool ok = PQresultStatus(start) == PGRES_COPY_IN;
  PQclear(start);
  if (!ok) connection.fail("COPY into " + qualified);
  std::vector<uint8_t> buffer(1 << 20);
  while (size_t n = reader.read(buffer.data(), buffer.size())) {
    if (PQputCopyData(connection.raw(), reinterpret_cast<char*>(buffer.data()), static_cast<int>(n)) != 1)
      connection.fail("COPY into " + qualified);
  }
  if (PQputCopyEnd(connection.raw(), nullptr) != 1) connection.fail("COPY into " + qualified);
  while (PGresult* result = PQgetResult(connection.raw())) {
    ok = PQresultStatus(result) == PGRES_COMMAND_OK;
    if (ok) rows = std::stoull(PQcmdTuples(result));
    PQclear(result);
    if (!ok) connection.fail("COPY into " + qualified);
  }
}

// Runs `work(connection, item)` for every item on `jobs` connections; the first error wins.
template <typename Item, typename Work>
void run_on_connections(const ConnectionInfo& info, const std::string& database, int jobs, std::vector<Item>& items,
                  const std::string& setup, Work work) {
  std::atomic<size_t> next{0};
  std::mutex mutex;
  std::exception_ptr failure;
  std::vector<std::thread> threads;
  int count = std::max(1, std::min<int>(jobs, static_cast<int>(items.size())));
  for (int i = 0; i < count; ++i) {
    threads.emplace_back([&] {
      try {
        PgConnection connection(info, database);
        if (!setup.empty()) connection.execute(setup);
        for (size_t index; (index = next++) < items.size();) {
          {
            std::lock_guard lock(mutex);
            if (failure) return;
          }
          throw_if_interrupted();
          work(connection, items[index]);
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

}  // namespace

BackupReport PostgresEngine::backup(const ConnectionInfo& source, DumpSink& sink, const BackupOptions& options) {
  PgConnection coordinator(source, source.database);
  coordinator.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
  std::string snapshot = coordinator.query("SELECT pg_export_snapshot()")[0][0];
  std::string version = coordinator.query("SHOW server_version")[0][0];
  std::vector<PgTable> tables;
  for (const auto& row : coordinator.query(
           // Partitions are plain tables here (relkind 'r'); their parents hold no rows.
           "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
           "WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
           "AND n.nspname NOT LIKE 'pg_toast%' "
           "ORDER BY pg_relation_size(c.oid) DESC, n.nspname, c.relname"))
    tables.push_back(PgTable{row[0], row[1], 0, 0});
  std::string sequences;
  for (const auto& row : coordinator.query(
           "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename) FROM pg_sequences ORDER BY 1")) {
    auto value = coordinator.query("SELECT last_value::text, is_called::text FROM " + row[0])[0];
    sequences += "SELECT pg_catalog.setval('" + row[0] + "', " + value[0] + ", " + value[1] + ");\n";
  }
  dump_schema(source, snapshot, "pre-data", sink, "schema-pre.sql");
  dump_schema(source, snapshot, "post-data", sink, "schema-post.sql");
  {
    auto writer = sink.create("sequences.sql");
    writer->write(as_bytes(sequences));
    writer->close();
  }
  run_on_connections(source, source.database, options.jobs, tables,
               "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; SET TRANSACTION SNAPSHOT '" + snapshot + "'",
               [&](PgConnection& connection, PgTable& table) { copy_out(connection, table, sink); });
  coordinator.execute("COMMIT");

  BackupReport report;
  report.consistency = "exported snapshot " + snapshot;
  json manifest = {{"engine", "postgresql"}, {"server_version", version}, {"snapshot", snapshot},
                   {"time", format_rfc3339(now_unix_nanos())}, {"database", source.database}, {"tables", json::array()}};
  for (const PgTable& table : tables) {
    report.tables.push_back({table.schema + "." + table.name, table.rows, table.bytes});
    manifest["tables"].push_back({{"schema", table.schema}, {"name", table.name}, {"rows", table.rows},
                                  {"bytes", table.bytes}, {"stream", table.stream()}});
  }
  write_stream(sink, "manifest.json", manifest.dump(2));
  return report;
}

namespace {

// pg_dump's post-data section: SET lines, then one statement per ";\n"-terminated run of
// lines (CREATE INDEX, ALTER TABLE … ADD CONSTRAINT, CREATE TRIGGER …). Index and key
// builds are the slow part of a restore and independent of each other, so they run on
// `jobs` connections like pg_restore -j; then everything else in pg_dump's order (index
// attachments, triggers, comments); foreign keys last, in parallel again, once every key
// they may reference exists.
void restore_post_data(const ConnectionInfo& target, int jobs, const std::string& sql) {
  std::string settings;
  std::vector<std::string> independent, ordered, foreign_keys;
  std::string statement;
  size_t start = 0;
  while (start < sql.size()) {
    size_t end = sql.find('\n', start);
    if (end == std::string::npos) end = sql.size();
    std::string line = sql.substr(start, end - start);
    start = end + 1;
    if (statement.empty() && (line.empty() || line.rfind("--", 0) == 0)) continue;
    if (statement.empty() && (line.rfind("SET ", 0) == 0 || line.rfind("SELECT pg_catalog.set_config", 0) == 0)) {
      settings += line + "\n";
      continue;
    }
    statement += line + "\n";
    if (!line.empty() && line.back() == ';') {
      bool index = (statement.rfind("CREATE INDEX ", 0) == 0 || statement.rfind("CREATE UNIQUE INDEX ", 0) == 0) &&
                   statement.find(" ON ONLY ") == std::string::npos;
      bool key = statement.find("ADD CONSTRAINT") != std::string::npos;
      if (key && statement.find("FOREIGN KEY") != std::string::npos) {
        foreign_keys.push_back(statement);
      } else if (index || key) {
        independent.push_back(statement);
      } else {
        ordered.push_back(statement);
      }
      statement.clear();
    }
  }
  if (!statement.empty()) ordered.push_back(statement);
  auto execute = [](PgConnection& connection, std::string& text) { connection.execute(text); };
  run_on_connections(target, target.database, jobs, independent, settings, execute);
  run_on_connections(target, target.database, 1, ordered, settings, execute);
  run_on_connections(target, target.database, jobs, foreign_keys, settings, execute);
}

}  // namespace

RestoreReport PostgresEngine::restore(DumpSource& source, const ConnectionInfo& target, const RestoreOptions& options) {
  DumpManifest manifest = decode_dump_manifest(read_stream(source, "manifest.json"));
  {
    PgConnection maintenance(target, "postgres");
    bool exists = !maintenance.query("SELECT 1 FROM pg_database WHERE datname = $1", {target.database}).empty();
    if (exists && options.drop_existing) {
      maintenance.execute("DROP DATABASE " + quote_identifier(target.database) + " WITH (FORCE)");
      exists = false;
    }
    if (!exists) {
      if (!options.create_database) throw Error("database " + target.describe() + " does not exist");
      maintenance.execute("CREATE DATABASE " + quote_identifier(target.database));
    }
  }
  PgConnection connection(target, target.database);
  auto user_tables = connection.query(
      "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' "
      "AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'");
  if (user_tables[0][0] != "0")
    throw Error("database " + target.describe() + " already has tables; restore into a new database or use --drop-existing");
  connection.execute(strip_meta_commands(read_stream(source, "schema-pre.sql")));

  struct Load {
    std::string qualified, stream, name;
    uint64_t rows = 0;
  };
  std::vector<Load> loads;
  for (const DumpManifest::Table& table : manifest.tables)
    for (const std::string& stream : table.streams)
      loads.push_back({quote_identifier(table.schema) + "." + quote_identifier(table.name), stream,
                       table.schema + "." + table.name});
  run_on_connections(target, target.database, options.jobs, loads, "", [&](PgConnection& worker, Load& load) {
    auto reader = source.open(load.stream);
    copy_in(worker, load.qualified, *reader, load.rows);
  });
  connection.execute(read_stream(source, "sequences.sql"));
  restore_post_data(target, options.jobs, strip_meta_commands(read_stream(source, "schema-post.sql")));
  RestoreReport report;
  for (const Load& load : loads) report.tables.push_back({load.name, load.rows, 0});
  return report;
}

}  // namespace obkeep::db
