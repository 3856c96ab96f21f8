// Reading a file whole, and writing one so that a crash leaves the old file or the new one
// (a temporary beside it, fsynced, renamed over it, the folder fsynced).
#pragma once

#include <string>
#include <vector>

#include "util/bytes.hpp"

namespace obkeep {

// Throws Error naming `path`, described as `what` ("WAL file").
Bytes read_whole_file(const std::string& path, const std::string& what);
// The temporary is `path` + ".obkeep-tmp": a rerun after a crash overwrites it.
void write_file_durably(const std::string& path, ByteView data, const std::string& what);
// The files in `folder` that are whole (not write_file_durably's temporaries), sorted.
std::vector<std::string> whole_files_in(const std::string& folder, const std::string& what);

}  // namespace obkeep
