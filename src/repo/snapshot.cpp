// Snapshot objects: sealed JSON under snapshots/.
#include "repo/snapshot.hpp"

#include <algorithm>
#include <future>

#include "repo/repository.hpp"
#include "util/error.hpp"
#include "util/host.hpp"
#include "util/json_decode.hpp"
#include "util/parallel_tasks.hpp"

namespace obkeep::repo {

using nlohmann::json;

bool Snapshot::has_tag(const std::string& tag) const {
  return std::find(tags.begin(), tags.end(), tag) != tags.end();
}

std::string Snapshot::tag_value(const std::string& key) const {
  for (const std::string& tag : tags)
    if (tag.size() > key.size() && tag.compare(0, key.size(), key) == 0 && tag[key.size()] == '=')
      return tag.substr(key.size() + 1);
  return "";
}

json Snapshot::to_json() const {
  json out = {{"time", format_rfc3339(time_ns)}, {"tree", tree.hex()},        {"paths", paths},
              {"tags", tags},                    {"hostname", hostname},      {"username", username},
              {"program_version", program_version}, {"summary", summary}};
  if (parent) out["parent"] = parent->hex();
  if (original) out["original"] = original->hex();
  if (!excludes.empty()) out["excludes"] = excludes;
  return out;
}

Snapshot Snapshot::from_json(const json& in, const Id& id) {
  Snapshot snapshot;
  snapshot.id = id;
  try {
    snapshot.time_ns = parse_rfc3339(in.at("time").get<std::string>());
    snapshot.tree = Id::from_hex(in.at("tree").get<std::string>());
    if (in.contains("parent")) snapshot.parent = Id::from_hex(in.at("parent").get<std::string>());
    if (in.contains("original")) snapshot.original = Id::from_hex(in.at("original").get<std::string>());
    snapshot.paths = in.at("paths").get<std::vector<std::string>>();
    snapshot.tags = in.value("tags", std::vector<std::string>{});
    snapshot.excludes = in.value("excludes", std::vector<std::string>{});
    snapshot.hostname = in.value("hostname", "");
    snapshot.username = in.value("username", "");
    snapshot.program_version = in.value("program_version", "");
    snapshot.summary = in.value("summary", json::object());
  } catch (const json::exception& e) {
    throw IntegrityError("snapshot " + id.hex() + " is malformed: " + e.what());
  } catch (const IntegrityError&) {
    throw;
  } catch (const Error& e) {  // a bad id or time
    throw IntegrityError("snapshot " + id.hex() + " is malformed: " + e.what());
  }
  return snapshot;
}

Snapshot decode_snapshot(ByteView text, const Id& id) {
  return Snapshot::from_json(parse_json(text, "snapshot " + id.hex()), id);
}

Id save_snapshot(Repository& repository, const Snapshot& snapshot, const std::function<void()>& ready) {
  return repository.save_object(storage::FileType::snapshot, as_bytes(snapshot.to_json().dump()), ready);
}

Id flush_and_save_snapshot(Repository& repository, const Snapshot& snapshot) {
  std::promise<void> flushed;
  std::shared_future<void> done = flushed.get_future().share();
  Id id;
  run_parallel(2, repository.backend().background_saves() ? 2 : 1, [&](size_t task) {
    if (task == 1) {
      id = save_snapshot(repository, snapshot, [done] { done.get(); });
      return;
    }
    try {
      repository.flush();
      flushed.set_value();
    } catch (...) {
      flushed.set_exception(std::current_exception());  // the snapshot's save is abandoned
      throw;
    }
  });
  return id;
}

Snapshot load_snapshot(Repository& repository, const Id& id) {
  return decode_snapshot(repository.load_object(storage::FileType::snapshot, id.hex()), id);
}

std::vector<Snapshot> list_snapshots(Repository& repository) {
  std::vector<std::string> names;
  repository.backend().list(storage::FileType::snapshot,
                            [&](const std::string& name, uint64_t) { names.push_back(name); });
  std::vector<Bytes> texts = repository.load_objects(storage::FileType::snapshot, names);
  std::vector<Snapshot> snapshots;
  for (size_t i = 0; i < names.size(); ++i) snapshots.push_back(decode_snapshot(texts[i], Id::from_hex(names[i])));
  std::sort(snapshots.begin(), snapshots.end(), [](const Snapshot& a, const Snapshot& b) {
    return a.time_ns != b.time_ns ? a.time_ns < b.time_ns : a.id < b.id;
  });
  return snapshots;
}

Snapshot find_snapshot(Repository& repository, const std::string& reference,
                       const std::vector<std::string>& required_tags) {
  std::vector<Snapshot> snapshots = list_snapshots(repository);
  auto matches_tags = [&](const Snapshot& s) {
    return std::all_of(required_tags.begin(), required_tags.end(), [&](const std::string& t) { return s.has_tag(t); });
  };
  if (reference == "latest") {
    for (auto it = snapshots.rbegin(); it != snapshots.rend(); ++it)
      if (matches_tags(*it)) return *it;
    throw Error("no snapshot found" + (required_tags.empty() ? std::string() : " with the given tags"));
  }
  if (reference.empty() || reference.size() > 64 ||
      reference.find_first_not_of("0123456789abcdef") != std::string::npos)
    throw Error("not a snapshot id: " + reference);
  const Snapshot* found = nullptr;
  for (const Snapshot& snapshot : snapshots) {
    if (snapshot.id.hex().compare(0, reference.size(), reference) != 0) continue;
    if (found) throw Error("snapshot id prefix " + reference + " is ambiguous");
    found = &snapshot;
  }
  if (!found) throw Error("no snapshot " + reference + " in the repository");
  return *found;
}

}  // namespace obkeep::repo
