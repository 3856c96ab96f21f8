// Running a helper program (pg_dump, java, a vendor dump tool) with streamed stdin/stdout.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "util/bytes.hpp"

namespace obkeep {

struct SubprocessResult {
  int exit_code = 0;        // 128 + signal when killed
  std::string stderr_tail;  // the last line of stderr, for error messages
  std::string stderr_end;   // its last 16 KiB (a tool's closing report)
  bool timed_out = false;   // ended (SIGTERM, then SIGKILL) after `timeout_ms`
};

// The last `lines` lines of a tool's report, joined on one line, for an error message.
std::string last_lines(const std::string& text, size_t lines);

// Runs a setup tool (initdb, mariadb-install-db) to its end; when it fails, throws Error
// "<what> failed: " and the last two lines of its report (stderr, else stdout: such tools
// print errors on either).
void run_setup_tool(const std::vector<std::string>& command, const std::string& what);

// Runs argv (argv[0] looked up in PATH) with `environment` added to ours. `on_stdout`
// receives stdout as it arrives; `fill_stdin`, when set, is called until it returns 0
// bytes and its data is written to the child's stdin. Secrets go in `environment`, never
// in argv (argv is visible to every user in ps). With `timeout_ms`, a child still running
// then is ended and the result says so (hooks and alert commands must not hang a daemon).
SubprocessResult run_subprocess(const std::vector<std::string>& argv, const std::map<std::string, std::string>& environment,
                                const std::function<void(ByteView)>& on_stdout,
                                const std::function<size_t(uint8_t*, size_t)>& fill_stdin = {}, int timeout_ms = 0);

// Starts argv (argv[0] a path) in a session of its own, not waited for and outliving the
// caller (wal-push --async's drainer): stdin and stdout on /dev/null, stderr appended to
// `log_path`. Throws Error when it cannot fork; a failed exec is logged there.
void start_detached(const std::vector<std::string>& argv, const std::string& log_path);

}  // namespace obkeep
