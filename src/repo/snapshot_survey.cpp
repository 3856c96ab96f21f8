// Reading every snapshot of a repository, naming the damaged ones instead of failing.
#include "repo/snapshot_survey.hpp"

#include <algorithm>

#include "repo/repository.hpp"
#include "util/error.hpp"

namespace obkeep::repo {

namespace {

// "snapshot <id> does not match its name (damaged)" → "does not match its name (damaged)":
// the finding names the snapshot already.
std::string why_damaged(const std::string& name, const IntegrityError& error) {
  std::string message = error.what(), prefix = "snapshot " + name + " ";
  return message.rfind(prefix, 0) == 0 ? message.substr(prefix.size()) : message;
}

}  // namespace

bool SnapshotSurvey::holds(const Id& id) const {
  return damaged.contains(id) ||
         std::any_of(readable.begin(), readable.end(), [&](const Snapshot& snapshot) { return snapshot.id == id; });
}

SnapshotSurvey survey_snapshots(Repository& repository) {
  std::vector<std::string> names;
  repository.backend().list(storage::FileType::snapshot, [&](const std::string& name, uint64_t) { names.push_back(name); });
  SnapshotSurvey survey;
  auto decode = [&](const std::string& name, const Bytes& text) {
    try {
      survey.readable.push_back(decode_snapshot(text, Id::from_hex(name)));
    } catch (const IntegrityError& e) {
      survey.damaged[Id::from_hex(name)] = why_damaged(name, e);
    }
  };
  std::vector<Bytes> texts;
  try {
    texts = repository.load_objects(storage::FileType::snapshot, names);  // all at once: the usual case
  } catch (const Error&) {
    texts.clear();
  }
  for (size_t i = 0; i < names.size(); ++i) {
    if (!texts.empty()) {
      decode(names[i], texts[i]);
      continue;
    }
    // One failed: each on its own, so the others are still read and the failure named.
    try {
      decode(names[i], repository.load_object(storage::FileType::snapshot, names[i]));
    } catch (const IntegrityError& e) {
      survey.damaged[Id::from_hex(names[i])] = why_damaged(names[i], e);
    }
  }
  std::sort(survey.readable.begin(), survey.readable.end(), [](const Snapshot& a, const Snapshot& b) {
    return a.time_ns != b.time_ns ? a.time_ns < b.time_ns : a.id < b.id;
  });
  return survey;
}

}  // namespace obkeep::repo
