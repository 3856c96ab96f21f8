// Decoding manifest.json; the engines write it with nlohmann::json directly.
#include "db/dump_manifest.hpp"

#include "repo/tree.hpp"
#include "util/error.hpp"
#include "util/json_decode.hpp"

namespace obkeep::db {

using nlohmann::json;

namespace {

const std::string h2_files_prefix = "files/";

std::string checked_stream(const json& value, const std::string& what) {
  std::string stream = value.get<std::string>();
  if (!is_safe_stream_name(stream)) throw IntegrityError("dump manifest has an unsafe " + what + ": " + stream);
  return stream;
}

}  // namespace

bool is_safe_stream_name(std::string_view name) {
  for (size_t start = 0;;) {
    size_t slash = name.find('/', start);
    if (!repo::is_safe_name(std::string(name.substr(start, slash == std::string_view::npos ? name.npos : slash - start))))
      return false;
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

std::string h2_file_base(const DumpManifest& manifest) {
  size_t slash = manifest.database.rfind('/');
  return slash == std::string::npos ? manifest.database : manifest.database.substr(slash + 1);
}

DumpManifest decode_dump_manifest(std::string_view text) {
  json in = parse_json(text, "dump manifest");
  DumpManifest manifest;
  try {
    manifest.engine = in.at("engine").get<std::string>();
    if (auto tables = in.find("tables"); tables != in.end()) {
      for (const json& table : tables->get_ref<const json::array_t&>()) {
        DumpManifest::Table entry{table.value("schema", ""), table.at("name").get<std::string>(), {}};
        // A chunked table has no "stream", so an older obkeep refuses it instead of
        // restoring its first chunk only.
        if (auto chunks = table.find("chunks"); chunks != table.end()) {
          for (const json& chunk : chunks->get_ref<const json::array_t&>())
            entry.streams.push_back(checked_stream(chunk.at("stream"), "chunk stream"));
          if (entry.streams.empty()) throw IntegrityError("dump manifest table " + entry.name + " has no chunks");
        } else {
          entry.streams.push_back(checked_stream(table.at("stream"), "table stream"));
        }
        manifest.tables.push_back(std::move(entry));
      }
    }
    manifest.format = in.value("format", "");
    manifest.database = in.value("database", "");
    if (auto files = in.find("files"); files != in.end())
      for (const json& file : files->get_ref<const json::array_t&>())
        manifest.files.push_back(checked_stream(file, "file stream"));
  } catch (const json::exception& e) {
    throw IntegrityError(std::string("dump manifest is malformed: ") + e.what());
  }
  if (!manifest.files.empty()) {
    std::string base = h2_file_base(manifest);
    if (base.empty() || !repo::is_safe_name(base))
      throw IntegrityError("dump manifest has an unsafe database name: " + manifest.database);
    for (const std::string& file : manifest.files)
      if (file.rfind(h2_files_prefix + base, 0) != 0)
        throw IntegrityError("dump manifest file stream " + file + " is not a file of database " + base);
  }
  return manifest;
}

}  // namespace obkeep::db
