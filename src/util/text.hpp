// Case folding for names compared without regard to case (hosts, HTTP headers, options).
#pragma once

#include <string>

namespace obkeep {

// `text` with A-Z turned into a-z; other bytes (UTF-8 included) unchanged.
std::string ascii_lower(std::string text);

}  // namespace obkeep
