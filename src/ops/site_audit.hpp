// Tamper evidence for a deployment's DR site: the site's snapshots against the primary's
// copy records, with the keep rules of the config's policies. `check --site` and `status`.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "deploy/config.hpp"
#include "repo/repository.hpp"
#include "repo/site_integrity.hpp"

namespace obkeep::ops {

struct SiteAudit {
  std::string site;
  size_t records = 0;  // copy records naming this site's repository
  repo::SiteIntegrity integrity;
  // Not empty when the primary recorded copies to a site of this name but never to this
  // repository: the site was replaced (re-created, or another repository put at its URL).
  std::string replaced;

  bool has_record() const { return records > 0; }
  bool intact() const { return integrity.intact() && replaced.empty(); }
  // One line: "7 recorded, 5 present, 1 gone by keep rules, 1 missing, 0 altered", or why
  // there is nothing to compare.
  std::string summary() const;
  // One line a finding: "missing: snapshot 1a2b3c4d … copied 2026-…", "altered: snapshot … : why",
  // "missing: WAL file … (stanza main), archived …: the newest copied …".
  std::vector<std::string> finding_lines() const;
  // {"site", "records", "recorded", "present", "gone_by_keep_rules", "missing", "altered",
  //  "missing_snapshots", "altered_snapshots", "archive_ends", "missing_archive_entries",
  //  "replaced", "intact"}
  nlohmann::json to_json() const;
};

// The keep rules of each set's policy (keep_last, keep_daily, …); sets without any are absent.
std::map<std::string, repo::KeepRules> keep_rules_of(const deploy::Config& config);

// `survey` is of `site_repository`'s snapshots; each archive's recorded newest entry is
// looked up there.
SiteAudit audit_site(const deploy::Config& config, const std::string& site, repo::Repository& site_repository,
                     const std::vector<repo::CopyRecord>& records, const repo::SnapshotSurvey& survey);

}  // namespace obkeep::ops
