// manifest.json of a database dump: what a restore reads before it touches a server or
// a file, decoded and checked in one place because it comes from the repository.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace obkeep::db {

struct DumpManifest {
  std::string engine;  // "postgresql", "mysql", "h2", "postgresql-base"
  struct Table {
    std::string schema;  // empty for MySQL/MariaDB
    std::string name;
    // One stream ("tables/public.consents.copy"), or a MariaDB table's chunks, one per key
    // range, in key order ("tables/T/0.tsv", "tables/T/1.tsv", …).
    std::vector<std::string> streams;
  };
  std::vector<Table> tables;
  std::string format;              // H2: "files" or "script"
  std::string database;            // H2: path of the source database, without suffix
  std::vector<std::string> files;  // H2 "files": streams "files/<database file name><suffix>"
};

// Throws IntegrityError naming the manifest and the field at fault. Stream names must be
// relative paths of safe names; H2 file streams must start with the database's file name,
// so a restore can rename them without leaving the target's directory.
DumpManifest decode_dump_manifest(std::string_view text);

// "a/b/c" where every component is a safe file name (repo::is_safe_name).
bool is_safe_stream_name(std::string_view name);

// The H2 database's file name (the last component of `database`), which every file
// stream starts with after "files/".
std::string h2_file_base(const DumpManifest& manifest);

}  // namespace obkeep::db
