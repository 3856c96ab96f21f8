// Host name, user name, clock and RFC 3339 formatting.
#include "util/host.hpp"

#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>

#include "util/error.hpp"

namespace obkeep {

std::string hostname() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return "unknown";
  return name;
}

std::string username() {
  if (passwd* entry = getpwuid(geteuid())) return entry->pw_name;
  return std::to_string(geteuid());
}

int64_t now_unix_nanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string format_rfc3339(int64_t unix_nanos) {
  time_t seconds = static_cast<time_t>(unix_nanos / 1000000000);
  int64_t fraction = unix_nanos % 1000000000;
  if (fraction < 0) {
    fraction += 1000000000;
    --seconds;
  }
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", utc.tm_year + 1900, utc.tm_mon + 1,
                utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<long long>(fraction));
  return text;
}

int64_t parse_rfc3339(const std::string& text) {
  int year, month, day, hour, minute, second;
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d%*[Tt ]%2d:%2d:%2d%n", &year, &month, &day, &hour, &minute, &second,
                  &consumed) != 6)
    throw Error("not an RFC 3339 time: " + text);
  size_t position = static_cast<size_t>(consumed);
  int64_t nanos = 0;
  if (position < text.size() && text[position] == '.') {
    int64_t scale = 100000000;
    ++position;
    while (position < text.size() && text[position] >= '0' && text[position] <= '9') {
      nanos += (text[position] - '0') * scale;
      scale /= 10;
      ++position;
    }
  }
  int64_t offset_seconds = 0;
  if (position < text.size() && (text[position] == 'Z' || text[position] == 'z')) {
    ++position;
  } else if (position < text.size() && (text[position] == '+' || text[position] == '-')) {
    int offset_hours = 0, offset_minutes = 0;
    if (std::sscanf(text.c_str() + position + 1, "%2d:%2d", &offset_hours, &offset_minutes) != 2)
      throw Error("not an RFC 3339 time: " + text);
    offset_seconds = (offset_hours * 3600 + offset_minutes * 60) * (text[position] == '-' ? -1 : 1);
    position += 6;
  } else {
    throw Error("RFC 3339 time lacks a zone (Z or ±hh:mm): " + text);
  }
  if (position != text.size()) throw Error("not an RFC 3339 time: " + text);
  std::tm utc{};
  utc.tm_year = year - 1900;
  utc.tm_mon = month - 1;
  utc.tm_mday = day;
  utc.tm_hour = hour;
  utc.tm_min = minute;
  utc.tm_sec = second;
  int64_t seconds = static_cast<int64_t>(timegm(&utc)) - offset_seconds;
  // Nanoseconds since 1970 in 64 bits reach the years 1677 to 2262; beyond, the product overflows.
  constexpr int64_t max_seconds = INT64_MAX / 1000000000 - 1;
  if (seconds > max_seconds || seconds < -max_seconds) throw Error("RFC 3339 time out of range: " + text);
  return seconds * 1000000000 + nanos;
}

bool process_alive(int pid) {
  if (pid <= 0) return false;
  return kill(pid, 0) == 0 || errno == EPERM;
}

}  // namespace obkeep
