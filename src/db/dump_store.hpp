// Where an engine writes a database dump and reads it back: a set of named streams.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/byte_stream.hpp"

namespace obkeep::db {

// Names are relative paths such as "schema.sql" or "tables/public.consents.copy".
// create() may be called from several threads at once (parallel table dumps).
class DumpSink {
 public:
  virtual ~DumpSink() = default;
  virtual std::unique_ptr<ByteWriter> create(const std::string& name) = 0;
};

class DumpSource {
 public:
  virtual ~DumpSource() = default;
  virtual std::vector<std::string> names() = 0;
  // open() may be called from several threads at once (parallel restores).
  virtual std::unique_ptr<ByteReader> open(const std::string& name) = 0;
};

// A whole small stream (a manifest, a schema, one WAL file) as one string.
std::string read_stream(DumpSource& source, const std::string& name);
void write_stream(DumpSink& sink, const std::string& name, std::string_view content);

}  // namespace obkeep::db
