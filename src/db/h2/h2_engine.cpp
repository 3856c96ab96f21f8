// H2 backups. Streams: files/<name> (copies of the database files, named after the
// database as <db>.h2.db / <db>.mv.db / <db>.lobs.db/...) or script.sql (H2 SCRIPT
// output), and manifest.json saying which.
#include "db/h2/h2_engine.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "util/error.hpp"
#include "util/subprocess.hpp"

namespace obkeep::db {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const char* const suffixes[] = {".h2.db", ".mv.db"};

std::string option(const ConnectionInfo& info, const char* key, const std::string& fallback = "") {
  auto it = info.options.find(key);
  return it == info.options.end() || it->second.empty() ? fallback : it->second;
}

bool flag(const ConnectionInfo& info, const char* key) {
  std::string value = option(info, key);
  for (auto& c : value) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return value == "TRUE";
}

std::string h2_jar(const ConnectionInfo& info) {
  std::string jar = option(info, "h2_jar");
  if (!jar.empty()) return jar;
  // A WSO2 node carries the H2 build matching its files among its OSGi bundles.
  std::string home = option(info, "home");
  std::error_code error;
  if (!home.empty())
    for (const auto& entry : fs::directory_iterator(fs::path(home) / "repository/components/plugins", error))
      if (entry.path().filename().string().rfind("h2", 0) == 0 && entry.path().extension() == ".jar")
        return entry.path().string();
  return "/usr/share/java/h2.jar";
}

struct Copied {
  std::vector<std::string> files;
  uint64_t bytes = 0;
};

void copy_file(const fs::path& path, const std::string& stream, DumpSink& sink, Copied& copied) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read H2 file " + path.string());
  auto writer = sink.create(stream);
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    std::streamsize n = in.gcount();
    if (n > 0) writer->write(ByteView(reinterpret_cast<const uint8_t*>(buffer.data()), static_cast<size_t>(n)));
  }
  if (in.bad()) throw Error("cannot read H2 file " + path.string());
  writer->close();
  copied.files.push_back(stream);
  copied.bytes += fs::file_size(path);
}

Copied copy_database_files(const std::string& database, DumpSink& sink) {
  Copied copied;
  std::string base = fs::path(database).filename().string();
  for (const char* suffix : suffixes)
    if (fs::exists(database + suffix)) copy_file(database + suffix, "files/" + base + suffix, sink, copied);
  fs::path lobs = database + ".lobs.db";
  if (fs::is_directory(lobs))
    for (const auto& entry : fs::recursive_directory_iterator(lobs))
      if (entry.is_regular_file())
        copy_file(entry.path(), "files/" + base + ".lobs.db/" + fs::relative(entry.path(), lobs).string(), sink, copied);
  if (copied.files.empty()) throw Error("H2 database " + database + " has no .h2.db or .mv.db file");
  return copied;
}

void write_text(DumpSink& sink, const std::string& name, const std::string& text) {
  auto writer = sink.create(name);
  writer->write(as_bytes(text));
  writer->close();
}

std::string read_text(DumpSource& source, const std::string& name) {
  auto reader = source.open(name);
  std::string text;
  uint8_t buffer[65536];
  while (size_t n = reader->read(buffer, sizeof buffer)) text.append(reinterpret_cast<char*>(buffer), n);
  return text;
}

void run_shell(const std::string& command, const std::string& what) {
  SubprocessResult result = run_subprocess({"/bin/sh", "-c", command}, {}, [](ByteView) {});
  if (result.exit_code != 0)
    throw Error(what + " failed (exit " + std::to_string(result.exit_code) + "): " + result.stderr_tail);
}

}  // namespace

bool H2Engine::in_use(const ConnectionInfo& info) {
  return fs::exists(info.database + ".lock.db") || flag(info, "server_running");
}

BackupReport H2Engine::backup(const ConnectionInfo& source, DumpSink& sink, const BackupOptions&) {
  BackupReport report;
  json manifest = {{"engine", "h2"}, {"database", source.database}};
  if (!in_use(source)) {
    Copied copied = copy_database_files(source.database, sink);
    // A server that started while we copied would make the copy unreliable.
    if (in_use(source)) {
      report.crash_consistent_only = true;
      report.warnings.push_back("H2 database " + source.database + " was opened while it was copied: crash-consistent only");
    }
    report.consistency = report.crash_consistent_only ? "crash-consistent file copy" : "file copy of a closed database";
    report.tables.push_back({"files", 0, copied.bytes});
    manifest["format"] = "files";
    manifest["files"] = copied.files;
  } else if (flag(source, "AUTO_SERVER")) {
    std::string url = "jdbc:h2:" + source.database + ";AUTO_SERVER=TRUE";
    auto writer = sink.create("script.sql");
    uint64_t bytes = 0;
    // H2's Script tool takes the password as an argument; WSO2's H2 databases use the
    // datasource's (usually default) credentials, so this exposes no production secret.
    SubprocessResult result = run_subprocess(
        {option(source, "java", "java"), "-cp", h2_jar(source), "org.h2.tools.Script", "-url", url, "-user",
         source.user, "-password", source.password, "-script", "/dev/stdout"},
        {}, [&](ByteView data) {
          writer->write(data);
          bytes += data.size();
        });
    if (result.exit_code != 0)
      throw Error("H2 SCRIPT of " + source.database + " failed (exit " + std::to_string(result.exit_code) +
                  "): " + result.stderr_tail);
    writer->close();
    report.consistency = "H2 SCRIPT through AUTO_SERVER (transactionally consistent)";
    report.tables.push_back({"script.sql", 0, bytes});
    manifest["format"] = "script";
  } else if (!option(source, "quiesce_command").empty()) {
    run_shell(option(source, "quiesce_command"), "quiesce_command for " + source.database);
    Copied copied;
    try {
      copied = copy_database_files(source.database, sink);
    } catch (...) {
      if (!option(source, "resume_command").empty()) run_shell(option(source, "resume_command"), "resume_command");
      throw;
    }
    if (!option(source, "resume_command").empty())
      run_shell(option(source, "resume_command"), "resume_command for " + source.database);
    report.consistency = "file copy while quiesced by quiesce_command";
    report.tables.push_back({"files", 0, copied.bytes});
    manifest["format"] = "files";
    manifest["files"] = copied.files;
  } else {
    Copied copied = copy_database_files(source.database, sink);
    report.crash_consistent_only = true;
    report.warnings.push_back("H2 database " + source.database +
                              " is in use and its URL has no AUTO_SERVER=TRUE: copied live, crash-consistent only "
                              "(configure a quiesce_command, or stop the server, for a consistent backup)");
    report.consistency = "crash-consistent copy of live files";
    report.tables.push_back({"files", 0, copied.bytes});
    manifest["format"] = "files";
    manifest["files"] = copied.files;
  }
  manifest["crash_consistent_only"] = report.crash_consistent_only;
  write_text(sink, "manifest.json", manifest.dump(2));
  return report;
}

RestoreReport H2Engine::restore(DumpSource& source, const ConnectionInfo& target, const RestoreOptions& options) {
  json manifest = json::parse(read_text(source, "manifest.json"));
  RestoreReport report;
  fs::path destination(target.database);
  fs::create_directories(destination.parent_path());
  for (const char* suffix : suffixes)
    if (fs::exists(target.database + suffix) && !options.drop_existing)
      throw Error("H2 database " + target.database + " already exists; refusing to overwrite it");
  if (in_use(target)) throw Error("H2 database " + target.database + " is in use (lock file present); stop the server first");
  std::string base = destination.filename().string();
  if (manifest.at("format") == "files") {
    std::string source_base = fs::path(manifest.at("database").get<std::string>()).filename().string();
    for (const std::string& stream : manifest.at("files").get<std::vector<std::string>>()) {
      std::string name = stream.substr(6);  // after "files/"
      name = base + name.substr(source_base.size());
      fs::path path = destination.parent_path() / name;
      fs::create_directories(path.parent_path());
      fs::path temporary = path.string() + ".obkeep-restore";
      {
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        auto reader = source.open(stream);
        uint8_t buffer[1 << 16];
        uint64_t bytes = 0;
        while (size_t n = reader->read(buffer, sizeof buffer)) {
          out.write(reinterpret_cast<char*>(buffer), static_cast<std::streamsize>(n));
          bytes += n;
        }
        if (!out.flush()) throw Error("cannot write " + temporary.string());
        report.tables.push_back({name, 0, bytes});
      }
      fs::rename(temporary, path);
    }
    return report;
  }
  // A script: replay it into a new database with H2's RunScript.
  fs::path script = destination.parent_path() / (base + ".obkeep-restore.sql");
  {
    std::ofstream out(script, std::ios::binary | std::ios::trunc);
    auto reader = source.open("script.sql");
    uint8_t buffer[1 << 16];
    while (size_t n = reader->read(buffer, sizeof buffer)) out.write(reinterpret_cast<char*>(buffer), static_cast<std::streamsize>(n));
  }
  SubprocessResult result = run_subprocess(
      {option(target, "java", "java"), "-cp", h2_jar(target), "org.h2.tools.RunScript", "-url",
       "jdbc:h2:" + target.database, "-user", target.user, "-password", target.password, "-script", script.string()},
      {}, [](ByteView) {});
  fs::remove(script);
  if (result.exit_code != 0)
    throw Error("H2 RunScript into " + target.database + " failed (exit " + std::to_string(result.exit_code) +
                "): " + result.stderr_tail);
  report.tables.push_back({"script.sql", 0, 0});
  return report;
}

}  // namespace obkeep::db
