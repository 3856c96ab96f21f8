#include "db/mariadb/mariadb_physical_engine.hpp"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <regex>

#include <nlohmann/json.hpp>

#include "db/mariadb/mariadb_connection.hpp"
#include "db/data_directory.hpp"
#include "util/error.hpp"
#include "util/host.hpp"
#include "util/subprocess.hpp"

namespace obkeep::db {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// mariadb-backup's own temporary directory (it streams, but still wants one).
class ScratchDirectory {
 public:
  ScratchDirectory() {
    std::string pattern = "/tmp/obkeep-mariabackup-XXXXXX";
    if (!::mkdtemp(pattern.data())) throw_system_error("cannot make a directory for mariadb-backup", errno);
    path_ = pattern;
  }
  ~ScratchDirectory() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

BackupReport MariadbPhysicalEngine::backup(const ConnectionInfo& source, DumpSink& sink, const BackupOptions&) {
  std::string version;
  {
    MariadbConnection connection(source, "");
    version = connection.query("SELECT VERSION()")[0][0];
  }
  int64_t start = now_unix_nanos();
  ScratchDirectory scratch;
  auto writer = sink.create("backup.xbstream");
  uint64_t bytes = 0;
  SubprocessResult result = run_subprocess(
      {"mariadb-backup", "--backup", "--stream=xbstream", "--target-dir=" + scratch.path(), "--host=" + source.host,
       "--port=" + std::to_string(source.port), "--user=" + source.user},
      {{"MYSQL_PWD", source.password}}, [&](ByteView data) {
        writer->write(data);
        bytes += data.size();
      });
  if (result.exit_code != 0)
    throw Error("mariadb-backup of " + source.describe() + " failed (exit " + std::to_string(result.exit_code) +
                "): " + last_lines(result.stderr_end, 2));
  writer->close();
  // "MySQL binlog position: filename 'binlog.000001', position '1977', GTID of the last change '0-1-10'"
  json binlog = nullptr;
  std::smatch match;
  static const std::regex position_line(R"(binlog position: filename '([^']+)', position '([0-9]+)'(, GTID of the last change '([^']*)')?)");
  if (std::regex_search(result.stderr_end, match, position_line)) {
    binlog = {{"file", match[1].str()}, {"position", match[2].str()}};
    if (match[4].matched) binlog["gtid"] = match[4].str();
  }
  json manifest = {{"engine", "mariadb-physical"}, {"server_version", version}, {"binlog", binlog},
                   {"start_time", format_rfc3339(start)}, {"end_time", format_rfc3339(now_unix_nanos())},
                   {"database", source.database}};
  write_stream(sink, "manifest.json", manifest.dump(2));
  BackupReport report;
  report.tables.push_back({"backup.xbstream", 0, bytes});
  report.consistency = "mariadb-backup of the whole server, consistent at its end (InnoDB redo applied at restore)";
  if (binlog.is_object()) {
    report.binlog_file = binlog["file"].get<std::string>();
    report.binlog_position = std::stoull(binlog["position"].get<std::string>());
    report.binlog_gtid = binlog.value("gtid", "");
  }
  return report;
}

RestoreReport MariadbPhysicalEngine::restore(DumpSource& source, const ConnectionInfo&, const RestoreOptions& options) {
  make_new_data_directory(options.data_directory);
  const fs::path directory(options.data_directory);
  auto reader = source.open("backup.xbstream");
  uint64_t bytes = 0;
  SubprocessResult extracted = run_subprocess(
      {"mbstream", "-x", "-C", directory.string()}, {}, [](ByteView) {},
      [&](uint8_t* buffer, size_t capacity) {
        size_t n = reader->read(buffer, capacity);
        bytes += n;
        return n;
      });
  if (extracted.exit_code != 0)
    throw Error("extracting the backup into " + directory.string() + " failed: " + last_lines(extracted.stderr_end, 2));
  // Applies the redo log copied during the backup: the files become one consistent instant.
  SubprocessResult prepared = run_subprocess({"mariadb-backup", "--prepare", "--target-dir=" + directory.string()}, {},
                                             [](ByteView) {});
  if (prepared.exit_code != 0)
    throw Error("mariadb-backup --prepare of " + directory.string() + " failed: " + last_lines(prepared.stderr_end, 2));
  // As root, the files go to the server's own user, as mariadbd --user=mysql needs them.
  if (::geteuid() == 0)
    if (struct passwd* mysql = ::getpwnam("mysql")) {
      for (const auto& entry : fs::recursive_directory_iterator(directory))
        if (::lchown(entry.path().c_str(), mysql->pw_uid, mysql->pw_gid) != 0)
          throw_system_error("cannot give " + entry.path().string() + " to user mysql", errno);
      if (::chown(directory.c_str(), mysql->pw_uid, mysql->pw_gid) != 0)
        throw_system_error("cannot give " + directory.string() + " to user mysql", errno);
    }
  RestoreReport report;
  report.tables.push_back({"backup.xbstream", 0, bytes});
  return report;
}

}  // namespace obkeep::db
