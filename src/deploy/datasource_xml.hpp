// Reading Carbon datasource files (repository/conf/datasources/*.xml).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "deploy/deployment.hpp"

namespace obkeep::deploy {

// Secure Vault aliases whose value is still plain text in cipher-text.properties
// (`alias=[value]`); encrypted ones map to nullopt.
using SecretTable = std::map<std::string, std::optional<std::string>>;

SecretTable read_cipher_text_properties(const std::string& path);

// Every datasource of one file. Throws Error "<file>:<line>: <what>" for malformed XML.
std::vector<Datasource> read_datasource_file(const std::string& path, const std::string& home,
                                             const SecretTable& secrets);

// 1-based line of a byte offset in a file (for parser error messages).
int line_of_offset(const std::string& path, size_t offset);

}  // namespace obkeep::deploy
