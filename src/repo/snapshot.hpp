// Snapshots: the root tree of one backup with its paths, time, host and tags.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/bytes.hpp"
#include "util/id.hpp"

namespace obkeep::repo {

class Repository;

struct Snapshot {
  Id id;  // storage id; not part of the JSON
  int64_t time_ns = 0;
  Id tree;
  std::optional<Id> parent;
  std::optional<Id> original;  // a copy: the snapshot's id in the repository it was first made in
  std::vector<std::string> paths;
  std::vector<std::string> tags;
  std::vector<std::string> excludes;  // patterns the backup left out (kept on in-place restores)
  std::string hostname;
  std::string username;
  std::string program_version;
  nlohmann::json summary = nlohmann::json::object();  // backup statistics, engine reports

  bool has_tag(const std::string& tag) const;
  // The value of a "key=value" tag, or empty.
  std::string tag_value(const std::string& key) const;
  nlohmann::json to_json() const;  // without id
  static Snapshot from_json(const nlohmann::json& json, const Id& id);
};

// A snapshot object's JSON text; throws IntegrityError naming the snapshot.
Snapshot decode_snapshot(ByteView text, const Id& id);

// `ready` (when given): what must be in place before the snapshot appears (its blobs'
// flush, run beside it: Backend::save_after).
Id save_snapshot(Repository& repository, const Snapshot& snapshot, const std::function<void()>& ready = {});
// repository.flush() and save_snapshot() side by side on a remote store, the snapshot
// appearing only once the flush has made every blob durable and indexed: at a far site it
// costs a rename's round trip after the flush, not a whole save.
Id flush_and_save_snapshot(Repository& repository, const Snapshot& snapshot);
Snapshot load_snapshot(Repository& repository, const Id& id);
// Every snapshot, oldest first. Unreadable ones are reported through `on_error`.
std::vector<Snapshot> list_snapshots(Repository& repository);
// Resolves "latest", a full id or a unique prefix; filters restrict "latest".
Snapshot find_snapshot(Repository& repository, const std::string& reference,
                       const std::vector<std::string>& required_tags = {});

}  // namespace obkeep::repo
