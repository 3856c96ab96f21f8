#include "daemon/log_line.hpp"

#include <cstdlib>
#include <mutex>

namespace obkeep::daemon {

std::string logfmt(const std::string& key, const std::string& value) {
  bool plain = !value.empty() && value.find_first_of(" \"=\\\t\n") == std::string::npos;
  if (plain) return " " + key + "=" + value;
  std::string quoted = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c == '\n' || c == '\t' ? ' ' : c;
  }
  return " " + key + "=" + quoted + "\"";
}

void write_log_line(std::ostream& out, bool error, const std::string& fields) {
  static const bool journald = std::getenv("JOURNAL_STREAM") != nullptr;
  static std::mutex mutex;  // the daemon's loop and its archiver supervisor write from two threads
  std::string line = std::string(journald ? (error ? "<3>" : "<6>") : "") + "obkeep" + fields + "\n";
  std::lock_guard lock(mutex);
  out << line << std::flush;
}

}  // namespace obkeep::daemon
