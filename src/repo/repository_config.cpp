// The config as JSON: {"version", "id", "chunker", "dump_chunker", "compression"}.
#include "repo/repository_config.hpp"

#include <algorithm>

#include "util/error.hpp"
#include "util/json_decode.hpp"

namespace obkeep::repo {

using nlohmann::json;

namespace {

json chunker_to_json(const ChunkerParams& params) {
  return {{"algorithm", "fastcdc-gear"},
          {"min_size", params.min_size},
          {"average_size", params.average_size},
          {"max_size", params.max_size},
          {"seed", to_hex(params.seed)}};
}

ChunkerParams chunker_from_json(const json& in) {
  ChunkerParams params;
  if (in.at("algorithm").get<std::string>() != "fastcdc-gear") throw IntegrityError("unknown chunker algorithm");
  params.min_size = json_integer<uint32_t>(in.at("min_size"), "chunker min_size");
  params.average_size = json_integer<uint32_t>(in.at("average_size"), "chunker average_size");
  params.max_size = json_integer<uint32_t>(in.at("max_size"), "chunker max_size");
  bool power_of_two = params.average_size >= 64 && (params.average_size & (params.average_size - 1)) == 0;
  if (!power_of_two || params.min_size > params.average_size || params.average_size > params.max_size ||
      params.max_size > 64 * 1024 * 1024)
    throw IntegrityError("repository config has impossible chunker sizes");
  Bytes seed = from_hex(in.at("seed").get<std::string>(), "chunker seed");
  if (seed.size() != 32) throw IntegrityError("chunker seed has the wrong length");
  std::copy(seed.begin(), seed.end(), params.seed.begin());
  return params;
}

}  // namespace

Bytes encode_repository_config(const RepositoryConfig& config) {
  json out = {{"version", config.version},
              {"id", config.id.hex()},
              {"chunker", chunker_to_json(config.chunker)},
              {"dump_chunker", chunker_to_json(config.dump_chunker)},
              {"compression", "zstd"}};
  std::string text = out.dump();
  return Bytes(text.begin(), text.end());
}

RepositoryConfig decode_repository_config(ByteView text) {
  json in = parse_json(text, "repository config");
  RepositoryConfig config;
  try {
    config.version = json_integer<int>(in.at("version"), "repository config version");
    if (config.version < oldest_format_version || config.version > format_version)
      throw Error("repository format version " + std::to_string(config.version) + " is not supported");
    config.id = Id::from_hex(in.at("id").get<std::string>());
    config.chunker = chunker_from_json(in.at("chunker"));
    config.dump_chunker = in.contains("dump_chunker") ? chunker_from_json(in.at("dump_chunker")) : config.chunker;
  } catch (const json::exception& e) {
    throw IntegrityError(std::string("repository config is malformed: ") + e.what());
  }
  return config;
}

}  // namespace obkeep::repo
