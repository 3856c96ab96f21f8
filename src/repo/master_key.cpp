// Key files: JSON with scrypt parameters and the master key sealed under the derived key.
#include "repo/master_key.hpp"

#include <nlohmann/json.hpp>

#include "crypto/hash.hpp"
#include "util/error.hpp"
#include "util/host.hpp"

namespace obkeep::repo {

using nlohmann::json;

namespace {
const Bytes key_file_associated = {'K'};
}

MasterKey MasterKey::generate() { return MasterKey{crypto::random_key(), crypto::random_key()}; }

std::string add_key_file(storage::Backend& backend, const MasterKey& key, std::string_view password,
                         const crypto::ScryptParams& params) {
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
  std::string id = crypto::sha256(as_bytes(text)).hex();
  backend.save({storage::FileType::key, id}, as_bytes(text));
  return id;
}

static std::optional<MasterKey> try_key_file(const Bytes& content, std::string_view password, const std::string& id) {
  json file;
  crypto::ScryptParams params;
  Bytes salt, sealed;
  try {
    file = json::parse(content.begin(), content.end());
    if (file.at("kdf") != "scrypt") throw Error("key file " + id + " uses an unknown KDF");
    params.n = file.at("n").get<uint64_t>();
    params.r = file.at("r").get<uint32_t>();
    params.p = file.at("p").get<uint32_t>();
    salt = base64_decode(file.at("salt").get<std::string>());
    sealed = base64_decode(file.at("data").get<std::string>());
  } catch (const json::exception& e) {
    throw Error("key file " + id + " is malformed: " + e.what());
  }
  crypto::Key256 wrapping = crypto::derive_key(password, salt, params);
  Bytes secret_text;
  try {
    secret_text = crypto::open(wrapping, sealed, key_file_associated);
  } catch (const IntegrityError&) {
    return std::nullopt;
  }
  json secret = json::parse(secret_text.begin(), secret_text.end());
  MasterKey key;
  Bytes encryption = base64_decode(secret.at("encryption").get<std::string>());
  Bytes id_key = base64_decode(secret.at("id_key").get<std::string>());
  if (encryption.size() != 32 || id_key.size() != 32) throw Error("key file " + id + " holds a malformed key");
  std::copy(encryption.begin(), encryption.end(), key.encryption.begin());
  std::copy(id_key.begin(), id_key.end(), key.id_key.begin());
  return key;
}

MasterKey open_master_key(storage::Backend& backend, std::string_view password, std::string* opened_key_id) {
  std::vector<std::string> ids;
  backend.list(storage::FileType::key, [&](const std::string& name, uint64_t) { ids.push_back(name); });
  if (ids.empty()) throw Error("repository " + backend.location() + " has no key files", ExitCode::no_repository);
  for (const std::string& id : ids) {
    Bytes content = backend.load({storage::FileType::key, id});
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
      json file = json::parse(content.begin(), content.end());
      info.created = file.value("created", "");
      info.hostname = file.value("hostname", "");
      info.username = file.value("username", "");
    } catch (const json::exception&) {
      info.created = "(malformed)";
    }
    keys.push_back(info);
  });
  return keys;
}

}  // namespace obkeep::repo
