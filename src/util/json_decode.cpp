// parse_json: a nesting check before nlohmann's parser sees the text.
#include "util/json_decode.hpp"

#include <algorithm>

namespace obkeep {

namespace {

// The deepest bracket nesting outside strings; stops counting past `limit`.
size_t nesting_depth(std::string_view text, size_t limit) {
  size_t depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > limit) break;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

}  // namespace

nlohmann::json parse_json(std::string_view text, const std::string& what) {
  if (nesting_depth(text, max_json_depth) > max_json_depth) throw IntegrityError(what + " is nested too deeply");
  nlohmann::json parsed = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  if (parsed.is_discarded()) throw IntegrityError(what + " is not valid JSON");
  return parsed;
}

}  // namespace obkeep
