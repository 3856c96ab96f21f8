// MariaDB/MySQL logical backup and restore. Streams (docs/database-dumps.md):
//   schema.sql           SHOW CREATE TABLE/VIEW output, statements separated by ";\n"
//   tables/<table>.tsv   rows in InnoDB's clustered order (the primary key, else insertion
//                        order), LOAD DATA's default format: fields
//                        separated by TAB, rows by LF, NULL as \N, and \\ \t \n \r \0 escaped
//   manifest.json        server version, binlog coordinates, tables with rows and bytes
#include "db/mariadb/mariadb_engine.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <charconv>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

#include <mysqld_error.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <nlohmann/json.hpp>

#include "db/dump_manifest.hpp"
#include "db/mariadb/deferred_indexes.hpp"
#include "db/mariadb/key_range_planner.hpp"
#include "db/mariadb/mariadb_connection.hpp"
#include "db/mariadb/table_chunks.hpp"
#include "util/error.hpp"
#include "util/host.hpp"
#include "util/interrupt.hpp"
#include "util/work_queue.hpp"

namespace obkeep::db {

using nlohmann::json;

namespace {

// One stream of a table: the whole table, or one key range of it.
struct Chunk {
  KeyRange range;
  std::string stream;
  uint64_t rows = 0, bytes = 0;
};

struct Table {
  std::string name, order_by;  // order_by: the primary-key columns, quoted
  TableKey key;                // kind unsplittable: no primary key, or one that cannot be cut
  uint64_t estimated_rows = 0, average_row_bytes = 0;
  bool chunked = false;
  std::deque<Chunk> chunks;  // the planner appends while workers fill the earlier ones
  uint64_t rows() const {
    uint64_t sum = 0;
    for (const Chunk& chunk : chunks) sum += chunk.rows;
    return sum;
  }
  uint64_t bytes() const {
    uint64_t sum = 0;
    for (const Chunk& chunk : chunks) sum += chunk.bytes;
    return sum;
  }
};

struct DumpTask {
  Table* table;
  Chunk* chunk;
  size_t index;
};

// The first byte in [data, end) that LOAD DATA escapes (\\ \t \n \r \0), or end. Rows are
// mostly plain text, so this is the formatter's inner loop: sixteen bytes a step with SSE2,
// eight with a word trick elsewhere.
const char* find_escape(const char* data, const char* end) {
#if defined(__SSE2__)
  const __m128i backslash = _mm_set1_epi8('\\'), tab = _mm_set1_epi8('\t'), newline = _mm_set1_epi8('\n'),
                carriage = _mm_set1_epi8('\r'), zero = _mm_setzero_si128();
  for (; end - data >= 16; data += 16) {
    __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(data));
    __m128i hits = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(bytes, backslash), _mm_cmpeq_epi8(bytes, tab)),
                                _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(bytes, newline), _mm_cmpeq_epi8(bytes, carriage)),
                                             _mm_cmpeq_epi8(bytes, zero)));
    if (int mask = _mm_movemask_epi8(hits)) return data + std::countr_zero(static_cast<unsigned>(mask));
  }
#else
  constexpr uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
  auto any_zero_byte = [](uint64_t v) { return (v - ones) & ~v & highs; };
  for (uint64_t word; end - data >= 8; data += 8) {
    std::memcpy(&word, data, 8);
    if (any_zero_byte(word) | any_zero_byte(word ^ (ones * '\\')) | any_zero_byte(word ^ (ones * '\t')) |
        any_zero_byte(word ^ (ones * '\n')) | any_zero_byte(word ^ (ones * '\r')))
      break;
  }
#endif
  for (; data < end; ++data)
    if (*data == '\\' || *data == '\t' || *data == '\n' || *data == '\r' || *data == 0) return data;
  return end;
}

// LOAD DATA's escapes; everything else is copied in runs.
void append_escaped(std::string& out, const char* data, unsigned long length) {
  const char* end = data + length;
  while (data < end) {
    const char* run = find_escape(data, end);
    out.append(data, static_cast<size_t>(run - data));
    if (run == end) break;
    out += '\\';
    switch (*run) {
      case '\t': out += 't'; break;
      case '\n': out += 'n'; break;
      case '\r': out += 'r'; break;
      case 0: out += '0'; break;
      default: out += '\\'; break;
    }
    data = run + 1;
  }
}

void dump_chunk(MariadbConnection& connection, const DumpTask& task, DumpSink& sink) {
  Table& table = *task.table;
  Chunk& chunk = *task.chunk;
  std::string what = "reading " + table.name + (table.chunked ? " (key range " + std::to_string(task.index + 1) + ")" : "");
  std::string sql = "SELECT * FROM " + quote_mysql_identifier(table.name) +
                    range_condition(quote_mysql_identifier(table.key.column), chunk.range);
  if (!table.order_by.empty()) sql += " ORDER BY " + table.order_by;
  if (mysql_real_query(connection.raw(), sql.data(), sql.size()) != 0) connection.fail(what);
  MYSQL_RES* result = mysql_use_result(connection.raw());  // streams: never a whole table in memory
  if (!result) connection.fail(what);
  auto writer = sink.create(chunk.stream);
  unsigned fields = mysql_num_fields(result);
  thread_local std::string buffer;  // the worker's, from key range to key range: no fresh pages to fault in
  buffer.clear();
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
    chunk.rows++;
    if (buffer.size() >= (1 << 20)) {
      writer->write(as_bytes(buffer));
      chunk.bytes += buffer.size();
      buffer.clear();
    }
  }
  bool failed = mysql_errno(connection.raw()) != 0;
  mysql_free_result(result);
  if (failed) connection.fail(what);
  writer->write(as_bytes(buffer));
  chunk.bytes += buffer.size();
  writer->close();
}

template <typename Item, typename Work>
void spread_over_connections(std::vector<std::unique_ptr<MariadbConnection>>& connections, std::vector<Item>& items, Work work) {
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

namespace {

uint64_t parse_count(const std::string& text) {
  uint64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;  // NULL (unknown) reads as 0
}

// The tables, largest first, with their primary keys; whether each is cut into key ranges
// for `jobs` workers.
std::vector<std::unique_ptr<Table>> list_tables(MariadbConnection& coordinator, const std::string& database,
                                                std::string& schema, int jobs) {
  std::string schema_literal = "'" + coordinator.escape(database) + "'";
  std::vector<std::unique_ptr<Table>> tables;
  for (const auto& row : coordinator.query(
           "SELECT TABLE_NAME, TABLE_ROWS, AVG_ROW_LENGTH FROM information_schema.TABLES WHERE TABLE_SCHEMA = " +
           schema_literal + " AND TABLE_TYPE = 'BASE TABLE' ORDER BY DATA_LENGTH DESC, TABLE_NAME")) {
    auto table = std::make_unique<Table>();
    table->name = row[0];
    table->estimated_rows = parse_count(row[1]);
    table->average_row_bytes = parse_count(row[2]);
    tables.push_back(std::move(table));
  }
  std::vector<Table*> large;  // a key that can be compared as it sorts, and more rows than a range
  std::vector<uint64_t> sizes;
  for (auto& table : tables) {
    std::string name = quote_mysql_identifier(table->name);
    schema += coordinator.query("SHOW CREATE TABLE " + name)[0][1] + ";\n";
    bool prefix_key = false;
    for (const auto& key : coordinator.query("SHOW KEYS FROM " + name + " WHERE Key_name = 'PRIMARY'")) {
      if (table->order_by.empty()) {
        table->key.table = table->name;
        table->key.column = key[4];
        prefix_key = !key[7].empty();  // PRIMARY KEY (c(10)): ranges of c would not follow its order
      }
      table->order_by += (table->order_by.empty() ? "" : ", ") + quote_mysql_identifier(key[4]);
    }
    sizes.push_back(table->estimated_rows * table->average_row_bytes);
    // Without a primary key InnoDB clusters by a hidden row id: a plain scan is insertion
    // order, stable across backups, and needs no sort; it cannot be cut into ranges.
    if (!table->order_by.empty() && !prefix_key && table->estimated_rows > rows_per_chunk(table->average_row_bytes))
      large.push_back(table.get());
  }
  if (!key_ranges_forced() && !whole_tables_unbalanced(sizes, jobs)) large.clear();
  for (Table* table : large) {
    auto type = coordinator.query("SELECT DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = " + schema_literal +
                                  " AND TABLE_NAME = '" + coordinator.escape(table->name) + "' AND COLUMN_NAME = '" +
                                  coordinator.escape(table->key.column) + "'");
    if (!type.empty()) table->key.kind = key_kind(type[0][0]);
    table->chunked = table->key.kind != KeyKind::unsplittable;
  }
  for (auto& table : tables)
    if (!table->chunked) table->chunks.push_back({KeyRange{}, "tables/" + table->name + ".tsv", 0, 0});
  return tables;
}

// Feeds the workers: whole tables too large to wait go first, then the key ranges of the
// cut tables as the walk finds them, then the small tables, which even out the end.
void plan_dump(MariadbConnection& coordinator, std::vector<std::unique_ptr<Table>>& tables, WorkQueue<DumpTask>& queue) {
  auto large = [](const Table& table) { return table.estimated_rows > rows_per_chunk(table.average_row_bytes); };
  for (auto& table : tables)
    if (!table->chunked && large(*table)) queue.push({table.get(), &table->chunks.front(), 0});
  for (auto& table : tables) {
    if (!table->chunked) continue;
    Table* current = table.get();
    plan_key_ranges(coordinator, table->key, table->estimated_rows, rows_per_chunk(table->average_row_bytes),
                    [&queue, current](KeyRange range) {
                      size_t index = current->chunks.size();
                      current->chunks.push_back(
                          {std::move(range), "tables/" + current->name + "/" + std::to_string(index) + ".tsv", 0, 0});
                      queue.push({current, &current->chunks.back(), index});
                      return !queue.aborted();
                    });
  }
  for (auto& table : tables)
    if (!table->chunked && !large(*table)) queue.push({table.get(), &table->chunks.front(), 0});
}

}  // namespace

BackupReport MariadbEngine::backup(const ConnectionInfo& source, DumpSink& sink, const BackupOptions& options) {
  MariadbConnection coordinator(source, source.database);
  std::string schema = "SET FOREIGN_KEY_CHECKS=0;\n";
  std::vector<std::unique_ptr<Table>> tables = list_tables(coordinator, source.database, schema, options.jobs);
  for (const auto& row : coordinator.query(
           "SELECT TABLE_NAME FROM information_schema.VIEWS WHERE TABLE_SCHEMA = '" + coordinator.escape(source.database) + "'"))
    schema += coordinator.query("SHOW CREATE VIEW " + quote_mysql_identifier(row[0]))[0][1] + ";\n";

  // One instant for all workers: under a global read lock nothing commits while each
  // worker starts its snapshot.
  bool any_chunked = std::any_of(tables.begin(), tables.end(), [](const auto& table) { return table->chunked; });
  int jobs = std::max(1, any_chunked ? options.jobs : std::min<int>(options.jobs, static_cast<int>(tables.size())));
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
    if (!status.empty()) {
      binlog = {{"file", status[0][0]}, {"position", status[0][1]}};
      // Under the lock nothing commits: the last GTID written is the one at that position,
      // for a replay --until-gtid. (BINLOG_GTID_POS would read the binlog file up to the
      // position: 0.4 s for a 160 MB file, while every worker waited.)
      auto gtid = coordinator.query("SELECT @@GLOBAL.gtid_binlog_pos");
      if (!gtid.empty() && !gtid[0].empty()) binlog["gtid"] = gtid[0][0];
    }
    coordinator.execute("UNLOCK TABLES");
    consistency = "consistent snapshot of " + std::to_string(workers.size()) + " workers under FLUSH TABLES WITH READ LOCK";
  } else {
    // MariaDB gives a consistent-snapshot transaction its binlog coordinates without a lock.
    std::string file, position;
    for (const auto& row : workers.front()->query("SHOW STATUS LIKE 'binlog_snapshot_%'")) {
      if (row[0] == "Binlog_snapshot_file") file = row[1];
      if (row[0] == "Binlog_snapshot_position") position = row[1];
    }
    if (!file.empty() && !position.empty()) binlog = {{"file", file}, {"position", position}};
    consistency = "consistent snapshot of one worker (no RELOAD privilege for a global read lock)";
  }
  std::string version = coordinator.query("SELECT VERSION()")[0][0];
  write_stream(sink, "schema.sql", schema);

  // The coordinator plans key ranges while the workers dump what is already planned.
  WorkQueue<DumpTask> queue;
  std::mutex mutex;
  std::exception_ptr failure;
  auto record_failure = [&] {
    std::lock_guard lock(mutex);
    if (!failure) failure = std::current_exception();
  };
  {
    std::vector<std::jthread> threads;
    WorkQueue<DumpTask>::AbortGuard abort_on_exit(queue);  // on the way out by an exception: workers end, then are joined
    for (auto& worker : workers) {
      threads.emplace_back([&, connection = worker.get()] {
        try {
          while (auto task = queue.pop()) dump_chunk(*connection, *task, sink);
        } catch (...) {
          record_failure();
          queue.abort();
        }
      });
    }
    try {
      plan_dump(coordinator, tables, queue);
      queue.close();
      if (binlog.is_object() && !binlog.contains("gtid")) {
        // The snapshot's position as a GTID position (NULL: not known), read while the
        // workers dump: the server reads the binlog file up to it.
        auto gtid = coordinator.query("SELECT BINLOG_GTID_POS('" + coordinator.escape(binlog["file"].get<std::string>()) +
                                      "', " + std::to_string(std::stoull(binlog["position"].get<std::string>())) + ")");
        if (!gtid.empty() && !gtid[0].empty() && gtid[0][0] != "NULL") binlog["gtid"] = gtid[0][0];
      }
    } catch (...) {
      record_failure();
      queue.abort();
    }
    for (auto& thread : threads) thread.join();  // before the guard, which would drop what is left
  }
  if (failure) std::rethrow_exception(failure);

  BackupReport report;
  report.consistency = consistency;
  if (binlog.is_object()) {
    report.binlog_file = binlog["file"].get<std::string>();
    report.binlog_position = std::stoull(binlog["position"].get<std::string>());
    report.binlog_gtid = binlog.value("gtid", "");
  }
  json manifest = {{"engine", "mysql"},  {"server_version", version}, {"binlog", binlog},
                   {"time", format_rfc3339(now_unix_nanos())}, {"database", source.database}, {"tables", json::array()}};
  for (const auto& table : tables) {
    report.tables.push_back({table->name, table->rows(), table->bytes()});
    json entry = {{"name", table->name}, {"rows", table->rows()}, {"bytes", table->bytes()}};
    if (table->chunked) {
      entry["key"] = table->key.column;
      entry["chunks"] = json::array();
      for (const Chunk& chunk : table->chunks)
        entry["chunks"].push_back({{"stream", chunk.stream}, {"rows", chunk.rows}, {"bytes", chunk.bytes}});
    } else {
      entry["stream"] = table->chunks.front().stream;
    }
    manifest["tables"].push_back(std::move(entry));
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
  DeferredIndexes deferred = defer_secondary_indexes(read_stream(source, "schema.sql"));
  {
    MariadbConnection connection(target, target.database);
    connection.execute_script(deferred.schema);
  }
  // Each stream is one LOAD DATA: the key ranges of a large table load side by side.
  struct Load {
    std::string name, stream;
    uint64_t rows = 0;
  };
  std::vector<Load> loads;
  for (const DumpManifest::Table& table : manifest.tables)
    for (const std::string& stream : table.streams) loads.push_back({table.name, stream});
  int jobs = std::max(1, std::min<int>(options.jobs, static_cast<int>(loads.size())));
  std::vector<std::unique_ptr<MariadbConnection>> workers;
  for (int i = 0; i < jobs; ++i) {
    workers.push_back(std::make_unique<MariadbConnection>(target, target.database, true));
    // The dump is consistent and its keys unique: checking again per row only slows the
    // load. The binary log stays on, so replicas of the target receive the rows.
    workers.back()->execute("SET FOREIGN_KEY_CHECKS=0, UNIQUE_CHECKS=0, SQL_MODE='NO_AUTO_VALUE_ON_ZERO'");
  }
  spread_over_connections(workers, loads, [&](MariadbConnection& connection, Load& load) {
    InfileContext context{&source, nullptr, ""};
    mysql_set_local_infile_handler(connection.raw(), infile_init, infile_read, infile_end, infile_error, &context);
    std::string sql = "LOAD DATA LOCAL INFILE '" + connection.escape(load.stream) + "' INTO TABLE " +
                      quote_mysql_identifier(load.name) + " CHARACTER SET binary";
    // Key ranges of one table load side by side, and InnoDB may pick one as a deadlock
    // victim; its LOAD DATA was rolled back whole, so it runs again from the stream's start.
    for (int attempt = 1;; ++attempt) {
      if (mysql_real_query(connection.raw(), sql.data(), sql.size()) == 0) break;
      unsigned error = mysql_errno(connection.raw());
      if ((error == ER_LOCK_DEADLOCK || error == ER_LOCK_WAIT_TIMEOUT) && attempt < 4 && context.error.empty()) continue;
      connection.fail("loading " + load.name + " from " + load.stream + (context.error.empty() ? "" : " (" + context.error + ")"));
    }
    load.rows = mysql_affected_rows(connection.raw());
  });
  // Largest tables first, as they were dumped, so the last index built is a small one.
  std::stable_sort(deferred.tables.begin(), deferred.tables.end(), [&](const auto& a, const auto& b) {
    auto position = [&](const std::string& name) {
      return std::find_if(manifest.tables.begin(), manifest.tables.end(), [&](const auto& t) { return t.name == name; }) -
             manifest.tables.begin();
    };
    return position(a.name) < position(b.name);
  });
  spread_over_connections(workers, deferred.tables, [](MariadbConnection& connection, DeferredIndexes::Table& table) {
    if (mysql_real_query(connection.raw(), table.add_keys.data(), table.add_keys.size()) != 0)
      connection.fail("adding the secondary indexes of " + table.name);
  });
  RestoreReport report;
  for (const Load& load : loads) {
    if (report.tables.empty() || report.tables.back().name != load.name) report.tables.push_back({load.name, 0, 0});
    report.tables.back().rows += load.rows;
  }
  return report;
}

}  // namespace obkeep::db
