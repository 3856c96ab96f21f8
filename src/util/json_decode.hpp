// Reading JSON that came from a repository (and so may be hostile): nesting is bounded, and
// numbers are checked for kind and range before they become integers.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "util/bytes.hpp"
#include "util/error.hpp"

namespace obkeep {

// Deeper than any object obkeep writes; nlohmann copies and prints recursively, so a
// million nested brackets must be refused before they are parsed.
constexpr size_t max_json_depth = 64;

// Parses `text`; throws IntegrityError "<what> is not valid JSON" (or "… nested too deeply").
nlohmann::json parse_json(std::string_view text, const std::string& what);
inline nlohmann::json parse_json(ByteView text, const std::string& what) { return parse_json(to_string(text), what); }

// `value` as an integer of type T: a JSON integer (not a float, whose conversion would be
// undefined behaviour when out of range) that fits. Throws IntegrityError naming `what`.
template <class T>
T json_integer(const nlohmann::json& value, const std::string& what) {
  static_assert(std::numeric_limits<T>::is_integer);
  if (value.is_number_unsigned()) {
    uint64_t number = value.get<uint64_t>();
    if (number <= static_cast<uint64_t>(std::numeric_limits<T>::max())) return static_cast<T>(number);
  } else if (value.is_number_integer()) {
    int64_t number = value.get<int64_t>();
    if (std::numeric_limits<T>::is_signed ? number >= static_cast<int64_t>(std::numeric_limits<T>::min()) &&
                                                number <= static_cast<int64_t>(std::numeric_limits<T>::max())
                                          : number >= 0 && static_cast<uint64_t>(number) <= std::numeric_limits<T>::max())
      return static_cast<T>(number);
  }
  throw IntegrityError(what + " is not an integer in range");
}

// The integer member `key` of `object`, or `fallback` when absent.
template <class T>
T json_integer_or(const nlohmann::json& object, const char* key, T fallback, const std::string& what) {
  auto it = object.find(key);
  return it == object.end() ? fallback : json_integer<T>(*it, what + " " + key);
}

}  // namespace obkeep
