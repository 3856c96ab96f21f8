// Parsing of ids from hex.
#include "util/id.hpp"

#include "util/error.hpp"

namespace obkeep {

Id Id::from_hex(std::string_view hex) {
  if (hex.size() != 64) throw Error("not an id (want 64 hex digits): " + std::string(hex));
  Bytes b = obkeep::from_hex(hex, "id");
  return from_bytes(b.data());
}

}  // namespace obkeep
