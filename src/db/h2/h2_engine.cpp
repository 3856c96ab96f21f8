// H2 backups. Streams: files/<name> (copies of the database files, named after the
// database as <db>.h2.db / <db>.mv.db / <db>.lobs.db/...) or script.sql (H2 SCRIPT
// output), and manifest.json saying which.
#include "db/h2/h2_engine.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "db/dump_manifest.hpp"
#include "util/error.hpp"
#include "util/subprocess.hpp"

namespace obkeep::db {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const char* const suffixes[] = {".h2.db", ".mv.db"};

bool flag(const ConnectionInfo& info, const char* key) {
  std::string value = info.option(key);
  for (auto& c : value) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return value == "TRUE";
}

std::string h2_jar(const ConnectionInfo& info) {
  std::string jar = info.option("h2_jar");
  if (!jar.empty()) return jar;
  // A WSO2 node carries the H2 build matching its files among its OSGi bundles.
  std::string home = info.option("home");
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

// Java's FileChannel.tryLock (how H2 2.x holds an open .mv.db) is a POSIX record lock,
// which F_GETLK reports from another process.
bool locked_by_another_process(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct flock lock {};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  bool locked = ::fcntl(fd, F_GETLK, &lock) == 0 && lock.l_type != F_UNLCK;
  ::close(fd);
  return locked;
}

// A private directory holding a FIFO that H2's Script/RunScript tools use as their script
// file, so the dump streams through without a temporary copy, and a java @argfile so the
// password is not on a command line. With AUTO_SERVER the SCRIPT runs in the server's JVM,
// which may be another user: the FIFO is writable by all in a directory no one can list.
class H2ToolRun {
 public:
  H2ToolRun() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/obkeep-h2.XXXXXX";
    if (!::mkdtemp(pattern.data())) throw Error("cannot create a temporary directory for H2's tools");
    directory_ = pattern;
    ::chmod(directory_.c_str(), 0711);
    fifo_ = directory_ + "/script.sql";
    if (::mkfifo(fifo_.c_str(), 0600) != 0 || ::chmod(fifo_.c_str(), 0622) != 0) {
      cleanup();
      throw Error("cannot create a FIFO for H2's tools");
    }
  }
  ~H2ToolRun() { cleanup(); }
  H2ToolRun(const H2ToolRun&) = delete;
  H2ToolRun& operator=(const H2ToolRun&) = delete;

  const std::string& fifo() const { return fifo_; }

  // Runs `java @argfile` with `arguments` while `stream(fd)` reads from (for_reading) or
  // writes to the FIFO; returns the tool's result.
  SubprocessResult run(const ConnectionInfo& info, const std::string& tool, std::vector<std::string> arguments,
                       bool for_reading, const std::function<void(int)>& stream) {
    std::string argfile = directory_ + "/args";
    {
      int fd = ::open(argfile.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      if (fd < 0) throw Error("cannot write an argument file for H2's tools");
      // Should this JVM end up serving an AUTO_SERVER database for the dump's duration, it
      // listens on loopback only, and H2 no longer needs the host's own name to resolve.
      std::string text = quote("-Dh2.bindAddress=127.0.0.1") + " " + quote("-cp") + " " + quote(h2_jar(info)) +
                         " " + quote(tool);
      for (const std::string& argument : arguments) text += " " + quote(argument);
      text += "\n";
      bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
      ::close(fd);
      if (!ok) throw Error("cannot write an argument file for H2's tools");
    }
    SubprocessResult result;
    std::thread tool_thread([&] {
      result = run_subprocess({info.option("java", "java"), "@" + argfile}, {}, [](ByteView) {});
      // A tool that failed before opening the FIFO would leave our open() blocked: open
      // the other end once so it returns (and then sees end of file or a broken pipe).
      int fd = ::open(fifo_.c_str(), (for_reading ? O_WRONLY : O_RDONLY) | O_NONBLOCK | O_CLOEXEC);
      if (fd >= 0) ::close(fd);
    });
    int fd = ::open(fifo_.c_str(), (for_reading ? O_RDONLY : O_WRONLY) | O_CLOEXEC);
    try {
      if (fd < 0) throw Error("cannot open the FIFO for H2's tools");
      ::unlink(argfile.c_str());
      stream(fd);
    } catch (...) {
      if (fd >= 0) ::close(fd);
      tool_thread.join();
      throw;
    }
    ::close(fd);
    tool_thread.join();
    return result;
  }

 private:
  // java @argfile syntax: double quotes, backslash escapes inside them.
  static std::string quote(const std::string& argument) {
    std::string out = "\"";
    for (char c : argument) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    return out + "\"";
  }
  void cleanup() {
    std::error_code ignored;
    fs::remove_all(directory_, ignored);
  }

  std::string directory_, fifo_;
};

void run_shell(const std::string& command, const std::string& what) {
  SubprocessResult result = run_subprocess({"/bin/sh", "-c", command}, {}, [](ByteView) {});
  if (result.exit_code != 0)
    throw Error(what + " failed (exit " + std::to_string(result.exit_code) + "): " + result.stderr_tail);
}

}  // namespace

bool H2Engine::in_use(const ConnectionInfo& info) {
  if (fs::exists(info.database + ".lock.db") || flag(info, "server_running")) return true;
  for (const char* suffix : suffixes)
    if (locked_by_another_process(info.database + suffix)) return true;
  return false;
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
    H2ToolRun tool;
    SubprocessResult result = tool.run(
        source, "org.h2.tools.Script",
        {"-url", url, "-user", source.user, "-password", source.password, "-script", tool.fifo()}, true, [&](int fd) {
          std::vector<uint8_t> buffer(1 << 20);
          for (;;) {
            ssize_t n = ::read(fd, buffer.data(), buffer.size());
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) throw Error("cannot read H2's SCRIPT output");
            if (n == 0) break;
            writer->write(ByteView(buffer.data(), static_cast<size_t>(n)));
            bytes += static_cast<uint64_t>(n);
          }
        });
    if (result.exit_code != 0)
      throw Error("H2 SCRIPT of " + source.database + " failed (exit " + std::to_string(result.exit_code) +
                  "): " + result.stderr_tail);
    writer->close();
    report.consistency = "H2 SCRIPT through AUTO_SERVER (transactionally consistent)";
    report.tables.push_back({"script.sql", 0, bytes});
    manifest["format"] = "script";
  } else if (!source.option("quiesce_command").empty()) {
    run_shell(source.option("quiesce_command"), "quiesce_command for " + source.database);
    Copied copied;
    try {
      copied = copy_database_files(source.database, sink);
    } catch (...) {
      if (!source.option("resume_command").empty()) run_shell(source.option("resume_command"), "resume_command");
      throw;
    }
    if (!source.option("resume_command").empty())
      run_shell(source.option("resume_command"), "resume_command for " + source.database);
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
  write_stream(sink, "manifest.json", manifest.dump(2));
  return report;
}

RestoreReport H2Engine::restore(DumpSource& source, const ConnectionInfo& target, const RestoreOptions& options) {
  DumpManifest manifest = decode_dump_manifest(read_stream(source, "manifest.json"));
  RestoreReport report;
  fs::path destination(target.database);
  fs::create_directories(destination.parent_path());
  for (const char* suffix : suffixes)
    if (fs::exists(target.database + suffix) && !options.drop_existing)
      throw Error("H2 database " + target.database + " already exists; refusing to overwrite it");
  if (in_use(target)) throw Error("H2 database " + target.database + " is in use (lock file present); stop the server first");
  std::string base = destination.filename().string();
  if (manifest.format == "files") {
    // decode_dump_manifest checked that every stream is "files/<source base><safe suffix>".
    std::string prefix = "files/" + h2_file_base(manifest);
    for (const std::string& stream : manifest.files) {
      std::string name = base + stream.substr(prefix.size());
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
  // A script: replay it into a new database with H2's RunScript, streamed through a FIFO.
  auto reader = source.open("script.sql");
  H2ToolRun tool;
  SubprocessResult result = tool.run(
      target, "org.h2.tools.RunScript",
      {"-url", "jdbc:h2:" + target.database, "-user", target.user, "-password", target.password, "-script", tool.fifo()},
      false, [&](int fd) {
        std::vector<uint8_t> buffer(1 << 16);
        while (size_t n = reader->read(buffer.data(), buffer.size())) {
          for (size_t done = 0; done < n;) {
            ssize_t written = ::write(fd, buffer.data() + done, n - done);
            if (written < 0 && errno == EINTR) continue;
            if (written < 0) return;  // the tool stopped reading: its exit code says why
            done += static_cast<size_t>(written);
          }
        }
      });
  if (result.exit_code != 0)
    throw Error("H2 RunScript into " + target.database + " failed (exit " + std::to_string(result.exit_code) +
                "): " + result.stderr_tail);
  report.tables.push_back({"script.sql", 0, 0});
  return report;
}

}  // namespace obkeep::db
