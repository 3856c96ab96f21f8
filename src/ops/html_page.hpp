// Self-contained HTML pages (the status page, the drill report): the data as JSON inside
// the page, and a script that draws it. The figures exist only once the script ran, so a
// browser test that reads them back from the DOM proves the page renders, not just parses.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace obkeep::ops {

// A page titled `title` whose `script` draws `data` (found by the script as the parsed
// JSON `DATA`) into <main>, with the shared style and helpers (el, fmtDuration,
// fmtTime, verdictBadge, lineChart).
std::string render_page(const std::string& title, const nlohmann::json& data, const std::string& script);

}  // namespace obkeep::ops
