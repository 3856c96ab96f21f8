// `obkeep check [--read-data | --read-data-subset N% | K/N]`: verify the repository; with
// --config and --site, a DR site, and compare it with the primary's copy records.
#include <algorithm>
#include <iostream>

#include "cli/common.hpp"
#include "ops/repository_access.hpp"
#include "ops/site_audit.hpp"
#include "ops/verify.hpp"
#include "repo/copy_record.hpp"
#include "repo/snapshot_survey.hpp"
#include "util/error.hpp"

namespace obkeep::cli {

namespace {

// The site against what the primary recorded sending there; each finding on one line.
ops::SiteAudit audit_site_against_primary(const GlobalOptions& global, repo::Repository& site) {
  const deploy::Config& config = config_of(global, "check --site");
  auto primary = ops::open_primary(repository_access(global));
  std::vector<repo::CopyRecord> records = repo::load_copy_records(*primary);
  return ops::audit_site(config, global.site, site, records, repo::survey_snapshots(site));
}

// The structural check names an altered snapshot too; the audit's line says more (its time,
// its set), so the structural one is left out.
void drop_errors_about(std::vector<std::string>& errors, const ops::SiteAudit& audit) {
  for (const repo::SentFinding& altered : audit.integrity.altered) {
    std::string prefix = "snapshot " + altered.snapshot.site_snapshot.hex() + ":";
    std::erase_if(errors, [&](const std::string& error) { return error.rfind(prefix, 0) == 0; });
  }
}

// "2/7": part 2 of 7 (restic's form): reading parts 1..7 in turn reads every pack.
bool parse_part(const std::string& text, ops::VerifyOptions& check) {
  size_t slash = text.find('/');
  if (slash == std::string::npos) return false;
  unsigned long part = 0, parts = 0;
  try {
    size_t used_part = 0, used_parts = 0;
    part = std::stoul(text.substr(0, slash), &used_part);
    parts = std::stoul(text.substr(slash + 1), &used_parts);
    if (used_part != slash || used_parts != text.size() - slash - 1) parts = 0;
  } catch (const std::exception&) {
    parts = 0;
  }
  if (parts == 0 || parts > 1000000 || part < 1 || part > parts)
    throw Error("--read-data-subset wants N% or K/N with 1 <= K <= N, got: " + text, ExitCode::usage);
  check.read_part = static_cast<uint32_t>(part);
  check.read_parts = static_cast<uint32_t>(parts);
  return true;
}

double parse_subset(const std::string& text) {
  std::string number = text;
  if (!number.empty() && number.back() == '%') number.pop_back();
  size_t used = 0;
  double value = -1;
  try {
    value = std::stod(number, &used);
  } catch (const std::exception&) {
  }
  if (used != number.size() || number.empty() || value <= 0 || value > 100)
    throw Error("--read-data-subset wants a percentage between 0 and 100, got: " + text, ExitCode::usage);
  return value / 100.0;
}

}  // namespace

void add_check_command(CLI::App& app, Context& context) {
  auto* command = app.add_subcommand(
      "check", "check the repository for errors (with --site: a DR site, against what the primary recorded sending there)");
  struct Options {
    bool read_data = false;
    std::string subset;
  };
  auto options = std::make_shared<Options>();
  command->add_flag("--read-data", options->read_data, "read and verify every pack");
  command->add_option("--read-data-subset", options->subset,
                      "read and verify a random N% of the packs, or part K/N of them (parts 1..N in turn read every pack and archive entry)");
  command->callback([&context, options] {
    context.action = [&context, options] {
      const GlobalOptions& global = context.global;
      auto repository = open_repository(global);
      std::string checked = global.site.empty() ? "repository " + repository->backend().location() : "DR site " + global.site;
      ops::VerifyOptions check;
      if (options->read_data) check.read_fraction = 1;
      if (!options->subset.empty() && !parse_part(options->subset, check)) check.read_fraction = parse_subset(options->subset);
      repo::CheckResult result = ops::verify(*repository, check);
      std::optional<ops::SiteAudit> audit;
      if (!global.site.empty()) {
        audit = audit_site_against_primary(global, *repository);
        drop_errors_about(result.errors, *audit);
      }
      for (const auto& warning : result.warnings) std::cerr << "warning: " << warning << "\n";
      for (const auto& error : result.errors) std::cerr << "error: " << error << "\n";
      for (const auto& affected : result.affected) std::cerr << "affected: " << affected << "\n";
      if (audit)
        for (const std::string& line : audit->finding_lines()) std::cerr << line << "\n";
      if (global.json) {
        nlohmann::json out{{"message_type", "check"}, {"errors", result.errors},
                           {"warnings", result.warnings}, {"affected", result.affected},
                           {"snapshots", result.snapshots}, {"packs", result.packs},
                           {"packs_read", result.packs_read}, {"blobs_read", result.blobs_read},
                           {"archive_entries", result.archive_entries}};
        if (audit) out["integrity"] = audit->to_json();
        std::cout << out.dump() << "\n";
      } else if (!global.quiet) {
        std::cout << "checked " << result.snapshots << " snapshots, " << result.trees << " trees, " << result.packs
                  << " packs";
        if (result.archive_entries) std::cout << ", " << result.archive_entries << " archive entries";
        if (check.read_fraction > 0 || check.read_parts > 0)
          std::cout << " (read " << result.packs_read << " packs, " << result.blobs_read << " blobs)";
        std::cout << ": " << (result.errors.empty() ? "no errors were found" : std::to_string(result.errors.size()) + " errors") << "\n";
        if (audit) std::cout << "against the primary's copy records: " << audit->summary() << "\n";
      }
      if (!result.errors.empty())
        throw Error("check found " + std::to_string(result.errors.size()) + " errors in " + checked + " (listed above)");
      if (audit && !audit->intact())
        throw Error(checked + " does not hold what the primary sent: " + std::to_string(audit->integrity.missing.size()) +
                    " missing, " + std::to_string(audit->integrity.altered.size()) + " altered" +
                    (audit->integrity.archive_missing.empty()
                         ? ""
                         : ", " + std::to_string(audit->integrity.archive_missing.size()) + " archives cut short") +
                    (audit->replaced.empty() ? "" : ", replaced") + " (listed above)");
      return 0;
    };
  });
}

}  // namespace obkeep::cli
