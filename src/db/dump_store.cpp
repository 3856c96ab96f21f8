#include "db/dump_store.hpp"

namespace obkeep::db {

std::string read_stream(DumpSource& source, const std::string& name) {
  auto reader = source.open(name);
  std::string text;
  uint8_t buffer[65536];
  while (size_t n = reader->read(buffer, sizeof buffer)) text.append(reinterpret_cast<char*>(buffer), n);
  return text;
}

void write_stream(DumpSink& sink, const std::string& name, std::string_view content) {
  auto writer = sink.create(name);
  writer->write(ByteView(reinterpret_cast<const uint8_t*>(content.data()), content.size()));
  writer->close();
}

}  // namespace obkeep::db
