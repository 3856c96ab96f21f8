// A DR site against the primary's copy records, under the config's keep rules; its report.
#include "ops/site_audit.hpp"

#include "ops/retention.hpp"
#include "util/host.hpp"

namespace obkeep::ops {

using nlohmann::json;

namespace {

json sent_json(const repo::SentFinding& finding) {
  const repo::SentSnapshot& sent = finding.snapshot;
  json out = {{"snapshot", sent.site_snapshot.hex()}, {"original", sent.original.hex()},
              {"time", format_rfc3339(sent.time_ns)},  {"tags", sent.tags},
              {"set", sent.as_snapshot().tag_value("set")}, {"copied", format_rfc3339(sent.copied_ns)}};
  if (!finding.detail.empty()) out["detail"] = finding.detail;
  return out;
}

}  // namespace

std::string SiteAudit::summary() const {
  if (!replaced.empty()) return replaced;
  if (!has_record())
    return "no record of copies to this site (copies made before obkeep kept records): nothing to compare";
  std::string line = std::to_string(integrity.recorded) + " recorded as sent, " + std::to_string(integrity.present) +
                     " present, " + std::to_string(integrity.gone_by_keep_rules) + " gone by keep rules, " +
                     std::to_string(integrity.missing.size()) + " missing, " + std::to_string(integrity.altered.size()) +
                     " altered";
  if (integrity.archive_ends)
    line += "; " + std::to_string(integrity.archive_ends) + " archives, " + std::to_string(integrity.archive_missing.size()) +
            " cut short";
  return line;
}

std::vector<std::string> SiteAudit::finding_lines() const {
  std::vector<std::string> lines;
  if (!replaced.empty()) lines.push_back("replaced: " + replaced);
  for (const repo::SentFinding& finding : integrity.missing)
    lines.push_back("missing: " + repo::describe_sent(finding.snapshot) + "; copied " +
                    repo::describe_time(finding.snapshot.copied_ns) + ", no longer at the site");
  for (const repo::SentFinding& finding : integrity.altered)
    lines.push_back("altered: " + repo::describe_sent(finding.snapshot) + ": its object " + finding.detail);
  for (const repo::SentArchiveEnd& end : integrity.archive_missing)
    lines.push_back("missing: " + end.describe() + ": the newest of its archive copied " + repo::describe_time(end.copied_ns) +
                    ", no longer at the site (the archive was cut short)");
  return lines;
}

json SiteAudit::to_json() const {
  json missing = json::array(), altered = json::array(), cut = json::array();
  for (const repo::SentFinding& finding : integrity.missing) missing.push_back(sent_json(finding));
  for (const repo::SentFinding& finding : integrity.altered) altered.push_back(sent_json(finding));
  for (const repo::SentArchiveEnd& end : integrity.archive_missing)
    cut.push_back({{"kind", end.key.kind}, {"stanza", end.key.stanza}, {"file", end.key.file},
                   {"archived", format_rfc3339(end.archived_ns)}, {"copied", format_rfc3339(end.copied_ns)}});
  return {{"site", site},
          {"records", records},
          {"recorded", integrity.recorded},
          {"present", integrity.present},
          {"gone_by_keep_rules", integrity.gone_by_keep_rules},
          {"missing", integrity.missing.size()},
          {"altered", integrity.altered.size()},
          {"missing_snapshots", missing},
          {"altered_snapshots", altered},
          {"archive_ends", integrity.archive_ends},
          {"missing_archive_entries", cut},
          {"replaced", replaced.empty() ? json(nullptr) : json(replaced)},
          {"intact", intact()}};
}

std::map<std::string, repo::KeepRules> keep_rules_of(const deploy::Config& config) {
  std::map<std::string, repo::KeepRules> rules;
  for (const auto& [set, policy] : config.policies)
    if (repo::KeepRules keep = policy_keep_rules(config, set); !keep.empty()) rules[set] = keep;
  return rules;
}

SiteAudit audit_site(const deploy::Config& config, const std::string& site, repo::Repository& site_repository_handle,
                     const std::vector<repo::CopyRecord>& records, const repo::SnapshotSurvey& survey) {
  std::string site_repository = site_repository_handle.config().id.hex();
  SiteAudit audit;
  audit.site = site;
  std::string other_repository;
  size_t other_snapshots = 0;
  for (const repo::CopyRecord& record : records) {
    if (record.site_repository == site_repository) {
      audit.records++;
    } else if (record.site == site) {
      other_repository = record.site_repository;
      other_snapshots += record.snapshots.size();
    }
  }
  if (!audit.records && !other_repository.empty())
    audit.replaced = "the site's repository " + site_repository.substr(0, 8) + " is not the one the primary copied " +
                     std::to_string(other_snapshots) + " snapshots to (" + other_repository.substr(0, 8) + ")";
  audit.integrity = repo::compare_with_record(repo::sent_to(records, site_repository), survey, keep_rules_of(config));
  repo::compare_archive_ends(repo::archive_ends_sent_to(records, site_repository), site_repository_handle, audit.integrity);
  return audit;
}

}  // namespace obkeep::ops
