// Plain secondary keys moved from CREATE TABLE to an ALTER TABLE after the load.
#include "db/mariadb/deferred_indexes.hpp"

#include <set>

namespace obkeep::db {

namespace {

const std::string statement_end = ";\n";

std::vector<std::string> split(const std::string& text, const std::string& separator) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t at; (at = text.find(separator, start)) != std::string::npos; start = at + separator.size())
    parts.push_back(text.substr(start, at - start));
  parts.push_back(text.substr(start));
  return parts;
}

// "`a``b`" at `at` → "a`b"; `at` moves past the closing quote. Empty when not quoted.
std::string read_quoted(const std::string& text, size_t& at) {
  std::string name;
  if (at >= text.size() || text[at] != '`') return name;
  for (++at; at < text.size(); ++at) {
    if (text[at] == '`') {
      if (at + 1 < text.size() && text[at + 1] == '`') {
        name += '`';
        ++at;
        continue;
      }
      ++at;
      return name;
    }
    name += text[at];
  }
  return "";
}

std::string quote(const std::string& name) {
  std::string out = "`";
  for (char c : name) out += c == '`' ? std::string("``") : std::string(1, c);
  return out + "`";
}

}  // namespace

DeferredIndexes defer_secondary_indexes(const std::string& schema) {
  std::vector<std::string> statements = split(schema, statement_end);
  std::set<std::string> referenced;
  for (const std::string& statement : statements)
    for (size_t at = 0; (at = statement.find("REFERENCES `", at)) != std::string::npos;) {
      at += 11;
      referenced.insert(read_quoted(statement, at));
    }
  DeferredIndexes result;
  for (size_t i = 0; i < statements.size(); ++i) {
    std::string& statement = statements[i];
    const std::string prefix = "CREATE TABLE ";
    size_t at = prefix.size();
    std::string name = statement.rfind(prefix, 0) == 0 ? read_quoted(statement, at) : "";
    if (!name.empty() && !referenced.count(name) && statement.find(" FOREIGN KEY (") == std::string::npos) {
      std::vector<std::string> lines = split(statement, "\n"), kept;
      std::string add_keys;
      for (const std::string& line : lines) {
        if (line.rfind("  KEY `", 0) == 0) {
          add_keys += (add_keys.empty() ? "" : ", ") + std::string("ADD ") +
                      line.substr(2, line.back() == ',' ? line.size() - 3 : std::string::npos);
          continue;
        }
        // The line before the closing parenthesis must not end in a comma.
        if (line.rfind(")", 0) == 0 && !kept.empty() && !kept.back().empty() && kept.back().back() == ',')
          kept.back().pop_back();
        kept.push_back(line);
      }
      if (!add_keys.empty()) {
        statement.clear();
        for (size_t j = 0; j < kept.size(); ++j) statement += (j ? "\n" : "") + kept[j];
        result.tables.push_back({name, "ALTER TABLE " + quote(name) + " " + add_keys});
      }
    }
    result.schema += statement + (i + 1 < statements.size() ? statement_end : "");
  }
  return result;
}

}  // namespace obkeep::db
