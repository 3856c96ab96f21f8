// The daemon's log: one line per event in logfmt (key=value, quoted when needed), so that
// journald, grep and log shippers all read it; under systemd (JOURNAL_STREAM set) each line
// starts with its syslog priority, <6> or <3>.
#pragma once

#include <ostream>
#include <string>

namespace obkeep::daemon {

// " key=value", the value quoted when it holds spaces, quotes, '=' or is empty.
std::string logfmt(const std::string& key, const std::string& value);

// Writes "obkeep" + fields as one line and flushes.
void write_log_line(std::ostream& out, bool error, const std::string& fields);

}  // namespace obkeep::daemon
