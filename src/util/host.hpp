// Facts about this host and time formatting shared by the repository and the CLI.
#pragma once

#include <cstdint>
#include <string>

namespace obkeep {

inline constexpr int64_t second_ns = 1'000'000'000;

std::string hostname();
std::string username();
int64_t now_unix_nanos();
// RFC 3339 in UTC with nanoseconds, e.g. 2026-11-25T05:04:36.123456789Z.
std::string format_rfc3339(int64_t unix_nanos);
// Parses RFC 3339 (any offset, optional fraction); throws Error naming `text`.
int64_t parse_rfc3339(const std::string& text);
// Is a process with this pid alive on this host?
bool process_alive(int pid);

}  // namespace obkeep
