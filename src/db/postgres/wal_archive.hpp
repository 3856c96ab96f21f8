// PostgreSQL's WAL archive in a repository, for archive_command and restore_command: each
// WAL file (or timeline history file) is an archive entry of kind "wal" under its stanza
// (repo/archive_entry.hpp), so pushing or fetching one costs the same however many are
// archived. Repositories written before entries hold WAL files as snapshots tagged set=wal,
// stanza=S, wal=NAME; a fetch still finds those.
#pragma once

#include <string>

#include "repo/archive_entry.hpp"
#include "repo/repository.hpp"

namespace obkeep::db {

repo::ArchiveKey wal_key(const std::string& stanza, const std::string& file);

// The WAL file name of `path` (its last component); Error (usage) when it cannot be one.
std::string wal_file_name(const std::string& path);

// Archives the WAL file at `path` (the caller holds a lock). Archived before with the same
// content is success; with other content an Error, so the server keeps its file.
void push_wal_file(repo::Repository& repository, const std::string& stanza, const std::string& path);

// Writes the archived WAL file `name` to `destination` (replacing it whole, durably).
// False when the archive lacks it, which is normal at the end of the archive. Its entry is
// read first; only when there is none are the snapshots of an older obkeep searched.
bool fetch_wal_file(repo::Repository& repository, const std::string& stanza, const std::string& name,
                    const std::string& destination);

}  // namespace obkeep::db
