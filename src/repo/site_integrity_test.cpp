// Tamper evidence: copy records written and read back, and a site's snapshots compared
// with them (present, missing, altered, gone by keep rules).
#include "repo/site_integrity.hpp"

#include <gtest/gtest.h>

#include "repo/memory_repository_for_tests.hpp"
#include "util/host.hpp"

namespace obkeep::repo {

namespace {

constexpr int64_t day_ns = int64_t{86400} * 1000000000;
const int64_t start_ns = parse_rfc3339("2026-11-01T02:00:00Z");

Id id_of(char c) { return Id::from_hex(std::string(64, c)); }

SentSnapshot sent(char c, int day, const std::string& set = "artifacts") {
  SentSnapshot snapshot;
  snapshot.site_snapshot = id_of(c);
  snapshot.original = id_of(static_cast<char>(c + 1));
  snapshot.time_ns = start_ns + day * day_ns;
  snapshot.hostname = "api-1";
  snapshot.paths = {"/opt/wso2-obam-1.5.0"};
  snapshot.tags = {"set=" + set, "home=/opt/wso2-obam-1.5.0"};
  return snapshot;
}

// A site holding `readable` whole and `damaged` altered.
SnapshotSurvey site_with(const std::vector<SentSnapshot>& readable, const std::vector<SentSnapshot>& damaged = {}) {
  SnapshotSurvey survey;
  for (const SentSnapshot& snapshot : readable) survey.readable.push_back(snapshot.as_snapshot());
  for (const SentSnapshot& snapshot : damaged) survey.damaged[snapshot.site_snapshot] = "does not match its name";
  return survey;
}

std::vector<Id> ids_of(const std::vector<SentFinding>& findings) {
  std::vector<Id> ids;
  for (const SentFinding& finding : findings) ids.push_back(finding.snapshot.site_snapshot);
  return ids;
}

}  // namespace

TEST(SiteIntegrity, AnIntactSiteHasNoFindings) {
  std::vector<SentSnapshot> recorded = {sent('a', 0), sent('c', 1)};
  SiteIntegrity integrity = compare_with_record(recorded, site_with(recorded), {});
  EXPECT_TRUE(integrity.intact());
  EXPECT_EQ(integrity.recorded, 2u);
  EXPECT_EQ(integrity.present, 2u);
}

TEST(SiteIntegrity, NamesMissingAndAlteredSnapshots) {
  std::vector<SentSnapshot> recorded = {sent('a', 0), sent('c', 1), sent('e', 2), sent('0', 3)};
  SiteIntegrity integrity = compare_with_record(recorded, site_with({sent('a', 0), sent('e', 2)}, {sent('c', 1)}), {});
  EXPECT_FALSE(integrity.intact());
  EXPECT_EQ(integrity.present, 2u);
  EXPECT_EQ(ids_of(integrity.missing), std::vector<Id>{id_of('0')});
  EXPECT_EQ(ids_of(integrity.altered), std::vector<Id>{id_of('c')});
  EXPECT_EQ(integrity.altered[0].detail, "does not match its name");
}

TEST(SiteIntegrity, WhatTheKeepRulesForgetIsNotMissing) {
  std::vector<SentSnapshot> recorded = {sent('a', 0), sent('c', 1), sent('e', 2)};
  // keep_last = 1, run at the site when it held all three: only the newest stays.
  SiteIntegrity integrity = compare_with_record(recorded, site_with({sent('e', 2)}), {{"artifacts", KeepRules{.last = 1}}});
  EXPECT_TRUE(integrity.intact());
  EXPECT_EQ(integrity.gone_by_keep_rules, 2u);
  // A forget run before the newest arrived (it kept 'c' then, 'e' came after): agreed with.
  integrity = compare_with_record(recorded, site_with({sent('c', 1), sent('e', 2)}), {{"artifacts", KeepRules{.last = 1}}});
  EXPECT_TRUE(integrity.intact());
  EXPECT_EQ(integrity.gone_by_keep_rules, 1u);
}

TEST(SiteIntegrity, TheNewestSnapshotGoneIsMissingWhateverTheRules) {
  std::vector<SentSnapshot> recorded = {sent('a', 0), sent('c', 1), sent('e', 2)};
  SiteIntegrity integrity =
      compare_with_record(recorded, site_with({sent('a', 0), sent('c', 1)}), {{"artifacts", KeepRules{.last = 1}}});
  EXPECT_EQ(ids_of(integrity.missing), std::vector<Id>{id_of('e')});
  EXPECT_EQ(integrity.gone_by_keep_rules, 0u);
}

TEST(SiteIntegrity, RulesOfOneSetDoNotExcuseAnother) {
  std::vector<SentSnapshot> recorded = {sent('a', 0, "databases"), sent('c', 1, "databases")};
  SiteIntegrity integrity =
      compare_with_record(recorded, site_with({sent('c', 1, "databases")}), {{"artifacts", KeepRules{.last = 1}}});
  EXPECT_EQ(ids_of(integrity.missing), std::vector<Id>{id_of('a')});
}

TEST(SiteIntegrity, DescribesASnapshotByIdTimeAndTags) {
  EXPECT_EQ(describe_sent(sent('a', 0)),
            "snapshot aaaaaaaa (primary bbbbbbbb) of 2026-11-01 02:00:00 UTC, set=artifacts home=/opt/wso2-obam-1.5.0");
}

// Through real repositories: a copy log records what was put at the site; damage at the
// site is then found by surveying it.
TEST(SiteIntegrity, CopyRecordsFindDamageAtTheSite) {
  MemoryRepository primary = make_memory_repository();
  MemoryRepository site = make_memory_repository();
  std::vector<Snapshot> originals;
  std::vector<Id> at_site;
  for (int i = 0; i < 3; ++i) {
    Snapshot snapshot = sent('a', i).as_snapshot();
    snapshot.original.reset();  // made here, on the primary
    snapshot.tree = id_of('f');
    snapshot.id = save_snapshot(*primary.repository, snapshot);
    Snapshot copy = snapshot;
    copy.original = snapshot.id;
    originals.push_back(snapshot);
    at_site.push_back(save_snapshot(*site.repository, copy));
  }
  {
    CopyLog log(*primary.repository, *site.repository, "dr");
    log.note(originals[0], at_site[0]);
    log.note(originals[1], at_site[1]);
    EXPECT_EQ(log.save(), 2u);
  }
  {
    CopyLog log(*primary.repository, *site.repository, "dr");
    for (int i = 0; i < 3; ++i) log.note(originals[i], at_site[i]);  // the third only is new
    EXPECT_EQ(log.save(), 1u);
  }
  std::vector<CopyRecord> records = load_copy_records(*primary.repository);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].site, "dr");
  std::vector<SentSnapshot> recorded = sent_to(records, site.repository->config().id.hex());
  ASSERT_EQ(recorded.size(), 3u);
  EXPECT_EQ(recorded[2].site_snapshot, at_site[2]);
  EXPECT_EQ(recorded[2].original, originals[2].id);
  EXPECT_EQ(recorded[2].tags, originals[2].tags);
  EXPECT_TRUE(sent_to(records, std::string(64, '0')).empty());

  EXPECT_TRUE(compare_with_record(recorded, survey_snapshots(*site.repository), {}).intact());
  site.backend->objects().erase({storage::FileType::snapshot, at_site[0].hex()});
  site.backend->objects()[{storage::FileType::snapshot, at_site[1].hex()}][20] ^= 1;
  SnapshotSurvey survey = survey_snapshots(*site.repository);
  EXPECT_EQ(survey.readable.size(), 1u);
  SiteIntegrity integrity = compare_with_record(recorded, survey, {});
  EXPECT_EQ(ids_of(integrity.missing), std::vector<Id>{at_site[0]});
  EXPECT_EQ(ids_of(integrity.altered), std::vector<Id>{at_site[1]});
  EXPECT_EQ(integrity.altered[0].detail, "does not match its name (damaged)");

  // The copy sends the missing snapshot again: sealed afresh, it has a new id at the site,
  // and the record's older sending of it is no longer a finding.
  Snapshot again = originals[0];
  again.original = originals[0].id;
  Id resent = save_snapshot(*site.repository, again);
  ASSERT_NE(resent, at_site[0]);
  {
    CopyLog log(*primary.repository, *site.repository, "dr");
    log.note(originals[0], resent);
    EXPECT_EQ(log.save(), 1u);
  }
  recorded = sent_to(load_copy_records(*primary.repository), site.repository->config().id.hex());
  ASSERT_EQ(recorded.size(), 3u);
  EXPECT_EQ(recorded[0].site_snapshot, resent);
  integrity = compare_with_record(recorded, survey_snapshots(*site.repository), {});
  EXPECT_TRUE(integrity.missing.empty());
  EXPECT_EQ(ids_of(integrity.altered), std::vector<Id>{at_site[1]});
}

}  // namespace obkeep::repo
