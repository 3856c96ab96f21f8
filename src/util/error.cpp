// Helpers for raising obkeep::Error.
#include "util/error.hpp"

#include <cstring>

namespace obkeep {

void throw_system_error(const std::string& what, int error_number) {
  throw Error(what + ": " + std::strerror(error_number));
}

}  // namespace obkeep
