// The repository's master key and the key files that wrap it under passwords.
#pragma once

#include <string>
#include <vector>

#include "crypto/aead.hpp"
#include "crypto/kdf.hpp"
#include "storage/backend.hpp"

namespace obkeep::repo {

struct MasterKey {
  crypto::Key256 encryption{};  // AES-256-GCM key for every stored object
  crypto::Key256 id_key{};      // HMAC-SHA-256 key for blob ids
  static MasterKey generate();
};

struct KeyFileInfo {
  std::string id;  // storage name of the key file
  std::string created;
  std::string hostname;
  std::string username;
};

// A new key file wrapping `key` under `password` (the derivation is the slow part) and its id.
struct NewKeyFile {
  std::string id;
  std::string text;
};
NewKeyFile make_key_file(const MasterKey& key, std::string_view password, const crypto::ScryptParams& params);

// Writes a new key file wrapping `key` under `password`; returns its id.
std::string add_key_file(storage::Backend& backend, const MasterKey& key, std::string_view password,
                         const crypto::ScryptParams& params);

// Tries every key file; throws Error(wrong_password) when none opens with `password`.
// `opened_key_id` receives the id of the key file that worked.
MasterKey open_master_key(storage::Backend& backend, std::string_view password, std::string* opened_key_id = nullptr);

std::vector<KeyFileInfo> list_key_files(storage::Backend& backend);

// A key file's outer JSON: how to derive the wrapping key and the sealed master key.
struct KeyFile {
  crypto::ScryptParams params;
  Bytes salt;
  Bytes sealed;  // the master key's JSON, sealed under the derived key
};
// The decoders of a key file (`id` names it in errors). Throw Error/IntegrityError.
KeyFile decode_key_file(ByteView text, const std::string& id);
MasterKey decode_master_key(ByteView secret_text, const std::string& id);

}  // namespace obkeep::repo
