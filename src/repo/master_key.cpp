// Key files: JSON with scrypt parameters and the master key sealed under the derived key.
#include "repo/master_key.hpp"

#include <algorithm>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "crypto/hash.hpp"
#include "util/error.hpp"
#include "util/host.hpp"
#include "util/json_decode.hpp"

namespace obkeep::repo {

using nlohmann::json;

namespace {
const Bytes key_file_associated = {'K'};
}

MasterKey MasterKey::generate() { return MasterKey{crypto::random_key(), crypto::random_key()}; }

NewKeyFile make_key_file(const MasterKey& key, std::string_view password, const crypto::ScryptParams& params) {
  Bytes salt(32);
  crypto::random_bytes(salt.data(), salt.size());
  crypto::Key256 wrapping = crypto::derive_key(password, salt, params);
  json secret = {{"encryption", base64_encode(key.encryption)}, {"id_key", base64_encode(key.id_key)}};
  Bytes sealed = crypto::seal(wrapping, as_bytes(secret.dump()), key_file_associated);
  json file = {{"version", 1},
               {"created", format_rfc3339(now_unix_nanos())},
               {"hostname", hostname()},
               {"username", username()},
               {"kdf", "scrypt"},
               {"n", params.n},
               {"r", params.r},
               {"p", params.p},
               {"salt", base64_encode(salt)},
               {"data", base64_encode(sealed)}};
  std::string text = file.dump(2) + "\n";
  return {crypto::sha256(as_bytes(text)).hex(), text};
}

std::string add_key_file(storage::Backend& backend, const MasterKey& key, std::string_view password,
                         const crypto::ScryptParams& params) {
  NewKeyFile file = make_key_file(key, password, params);
  backend.save({storage::FileType::key, file.id}, as_bytes(file.text));
  return file.id;
}

namespace {
// scrypt needs 128 * r * n bytes; a key file asking for more than this is refused before
// the derivation, which would otherwise exhaust the memory (the default needs 32 MiB).
constexpr uint64_t max_scrypt_memory = 1ull << 30;
}  // namespace

KeyFile decode_key_file(ByteView text, const std::string& id) {
  std::string what = "key file " + id;
  nlohmann::json file = parse_json(text, what);
  KeyFile key_file;
  try {
    if (file.at("kdf") != "scrypt") throw IntegrityError(what + " uses an unknown KDF");
    key_file.params.n = json_integer<uint64_t>(file.at("n"), what + " n");
    key_file.params.r = json_integer<uint32_t>(file.at("r"), what + " r");
    key_file.params.p = json_integer<uint32_t>(file.at("p"), what + " p");
    key_file.salt = base64_decode(file.at("salt").get<std::string>());
    key_file.sealed = base64_decode(file.at("data").get<std::string>());
  } catch (const json::exception& e) {
    throw IntegrityError(what + " is malformed: " + e.what());
  }
  const crypto::ScryptParams& params = key_file.params;
  if (params.r != 0 && params.n > max_scrypt_memory / 128 / params.r)
    throw IntegrityError(what + " asks scrypt for more than 1 GiB of memory");
  return key_file;
}

MasterKey decode_master_key(ByteView secret_text, const std::string& id) {
  std::string what = "key file " + id;
  nlohmann::json secret = parse_json(secret_text, what + " secret");
  Bytes encryption, id_key;
  try {
    encryption = base64_decode(secret.at("encryption").get<std::string>());
    id_key = base64_decode(secret.at("id_key").get<std::string>());
  } catch (const json::exception& e) {
    throw IntegrityError(what + " holds a malformed key: " + e.what());
  }
  if (encryption.size() != 32 || id_key.size() != 32) throw IntegrityError(what + " holds a malformed key");
  MasterKey key;
  std::copy(encryption.begin(), encryption.end(), key.encryption.begin());
  std::copy(id_key.begin(), id_key.end(), key.id_key.begin());
  return key;
}

static std::optional<MasterKey> try_key_file(const Bytes& content, std::string_view password, const std::string& id) {
  KeyFile file = decode_key_file(content, id);
  crypto::Key256 wrapping = crypto::derive_key(password, file.salt, file.params);
  Bytes secret_text;
  try {
    secret_text = crypto::open(wrapping, file.sealed, key_file_associated);
  } catch (const IntegrityError&) {
    return std::nullopt;
  }
  return decode_master_key(secret_text, id);
}

MasterKey open_master_key(storage::Backend& backend, std::string_view password, std::string* opened_key_id) {
  std::vector<std::string> ids;
  backend.list(storage::FileType::key, [&](const std::string& name, uint64_t) { ids.push_back(name); });
  if (ids.empty()) throw Error("repository " + backend.location() + " has no key files", ExitCode::no_repository);
  // Cheapest derivation first: a machine key (random password, cheap scrypt; `key add
  // --generate-password-file`) opens in a millisecond, not after a person's key's 100 ms.
  std::vector<std::pair<Bytes, std::string>> files;
  for (const std::string& id : ids) files.emplace_back(backend.load({storage::FileType::key, id}), id);
  auto cost = [](const std::pair<Bytes, std::string>& file) {
    try {
      crypto::ScryptParams params = decode_key_file(file.first, file.second).params;
      return params.n * params.r * params.p;
    } catch (const Error&) {
      return UINT64_MAX;  // tried last, where its error is reported
    }
  };
  std::stable_sort(files.begin(), files.end(), [&](const auto& a, const auto& b) { return cost(a) < cost(b); });
  for (const auto& [content, id] : files) {
    if (auto key = try_key_file(content, password, id)) {
      if (opened_key_id) *opened_key_id = id;
      return *key;
    }
  }
  throw Error("wrong password: no key of repository " + backend.location() + " opens with it", ExitCode::wrong_password);
}

std::vector<KeyFileInfo> list_key_files(storage::Backend& backend) {
  std::vector<KeyFileInfo> keys;
  backend.list(storage::FileType::key, [&](const std::string& name, uint64_t) {
    Bytes content = backend.load({storage::FileType::key, name});
    KeyFileInfo info{name, "", "", ""};
    try {
      json file = parse_json(content, "key file " + name);
      info.created = file.value("created", "");
      info.hostname = file.value("hostname", "");
      info.username = file.value("username", "");
    } catch (const json::exception&) {
      info.created = "(malformed)";
    } catch (const Error&) {
      info.created = "(malformed)";
    }
    keys.push_back(info);
  });
  return keys;
}

}  // namespace obkeep::repo
