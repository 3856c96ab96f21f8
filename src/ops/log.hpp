// What an operation says while it runs — errors it carries on past, warnings, notes, a
// hook's output — handed to whoever called it (the CLI writes stderr, a daemon its log).
#pragma once

#include <functional>
#include <string>

namespace obkeep::ops {

enum class LogLevel { error, warning, note, output };

// `text` is whole lines, each ending in '\n' (a subprocess's output: as it arrives).
using Log = std::function<void(LogLevel level, const std::string& text)>;

}  // namespace obkeep::ops
