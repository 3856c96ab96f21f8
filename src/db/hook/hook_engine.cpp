// The command hook: `backup_command` / `restore_command` run by /bin/sh with the
// connection in OBKEEP_DB_* variables (the password only in the child's environment).
#include "db/hook/hook_engine.hpp"

#include "util/error.hpp"
#include "util/subprocess.hpp"

namespace obkeep::db {

namespace {

std::map<std::string, std::string> environment_of(const ConnectionInfo& info) {
  return {{"OBKEEP_DB_HOST", info.host},
          {"OBKEEP_DB_PORT", std::to_string(info.port)},
          {"OBKEEP_DB_NAME", info.database},
          {"OBKEEP_DB_USER", info.user},
          {"OBKEEP_DB_PASSWORD", info.password}};
}

}  // namespace

BackupReport HookEngine::backup(const ConnectionInfo& source, DumpSink& sink, const BackupOptions&) {
  std::string command = source.required_option("backup_command");
  auto writer = sink.create("dump");
  uint64_t bytes = 0;
  SubprocessResult result = run_subprocess({"/bin/sh", "-c", command}, environment_of(source), [&](ByteView data) {
    writer->write(data);
    bytes += data.size();
  });
  if (result.exit_code != 0)
    throw Error("backup_command for " + source.describe() + " failed (exit " + std::to_string(result.exit_code) +
                "): " + result.stderr_tail);
  writer->close();
  BackupReport report;
  report.tables.push_back({"dump", 0, bytes});
  report.consistency = "as consistent as the backup_command makes it";
  return report;
}

RestoreReport HookEngine::restore(DumpSource& source, const ConnectionInfo& target, const RestoreOptions&) {
  std::string command = target.required_option("restore_command");
  auto reader = source.open("dump");
  uint64_t bytes = 0;
  SubprocessResult result = run_subprocess(
      {"/bin/sh", "-c", command}, environment_of(target), [](ByteView) {},
      [&](uint8_t* buffer, size_t capacity) {
        size_t n = reader->read(buffer, capacity);
        bytes += n;
        return n;
      });
  if (result.exit_code != 0)
    throw Error("restore_command for " + target.describe() + " failed (exit " + std::to_string(result.exit_code) +
                "): " + result.stderr_tail);
  RestoreReport report;
  report.tables.push_back({"dump", 0, bytes});
  return report;
}

}  // namespace obkeep::db
