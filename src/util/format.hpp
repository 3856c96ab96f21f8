// Byte counts and durations for people: "1.50 MiB", "1:02:03".
#pragma once

#include <cstdint>
#include <string>

namespace obkeep {

std::string format_bytes(uint64_t bytes);
std::string format_duration(double seconds);

}  // namespace obkeep
