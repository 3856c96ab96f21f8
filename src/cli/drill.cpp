// `obkeep drill --config FILE [--site NAME]`: a recovery drill into a sandbox (see
// ops/drill.hpp); writes the HTML report and prints the verdict. Exit 0 only when it passed.
#include <algorithm>
#include <filesystem>
#include <iostream>

#include "cli/common.hpp"
#include "cli/deployment_context.hpp"
#include "ops/drill.hpp"
#include "util/error.hpp"
#include "util/host.hpp"

namespace obkeep::cli {

namespace fs = std::filesystem;

namespace {

struct DrillCommandOptions {
  std::string report, prometheus;
  ops::DrillOptions drill;
};

std::string timestamp_for_names(int64_t ns) {
  std::string text = format_rfc3339(ns).substr(0, 19);
  std::replace(text.begin(), text.end(), ':', '-');
  return text;
}

}  // namespace

void add_drill_command(CLI::App& app, Context& context) {
  auto* command = app.add_subcommand("drill", "recovery drill: restore everything into a sandbox, verify, measure RTO and RPO");
  auto options = std::make_shared<DrillCommandOptions>();
  command->add_option("--sandbox", options->drill.sandbox, "an empty or new directory to restore into (default: a new one in /var/tmp)");
  command->add_flag("--keep", options->drill.keep, "keep the sandbox afterwards (default: removed)");
  command->add_option("--report", options->report, "the HTML report's path (default: obkeep-drill-TIME.html here)");
  command->add_option("--prometheus", options->prometheus, "also write the drill's metrics to FILE");
  command->add_option("--scratch-postgresql", options->drill.scratch_postgresql,
                      "a PostgreSQL server to restore PostgreSQL databases into, e.g. jdbc:postgresql://dr-db:5432/");
  command->add_option("--scratch-mysql", options->drill.scratch_mysql, "a MariaDB/MySQL server for MySQL databases, e.g. jdbc:mysql://dr-db:3306/");
  command->callback([&context, options] {
    context.action = [&context, options] {
      DeploymentContext deployment = load_deployment(context.global, "drill");
      const GlobalOptions& global = deployment.global;
      ops::DrillOptions drill = options->drill;
      drill.site = global.site;  // --site: restore from that DR site instead of the primary
      if (!global.quiet && !global.json)
        drill.on_step = [](const ops::DrillStep& step) {
          std::cerr << (step.ok ? "ok      " : "FAILED  ") << step.name << " (" << format_duration(step.duration_s) << ")"
                    << (step.detail.empty() ? "" : ": " + step.detail) << "\n";
        };
      ops::DrillResult result = ops::run_drill(deployment.config, deployment.discovery, deployment.primary, drill);
      try {
        ops::record_drill(*ops::open_primary(deployment.primary), result);
      } catch (const Error& error) {
        // A drill from a DR site while the primary is lost: the drill stands, unrecorded.
        if (error.code() == ExitCode::interrupted) throw;
        std::cerr << "obkeep: warning: the drill is not recorded in the primary's journal: " << error.what() << "\n";
      }
      std::string report = options->report.empty()
                               ? (fs::current_path() / ("obkeep-drill-" + timestamp_for_names(result.started_ns) + ".html")).string()
                               : fs::absolute(options->report).string();
      write_file_atomically(report, result.to_html());
      if (!options->prometheus.empty()) {
        std::string labels = "{site=\"" + result.site.value_or("primary") + "\"}";
        write_file_atomically(options->prometheus, "# TYPE obkeep_drill_measured_rto_seconds gauge\nobkeep_drill_measured_rto_seconds" +
                                            labels + " " + std::to_string(result.measured_rto_s) +
                                            "\n# TYPE obkeep_drill_passed gauge\nobkeep_drill_passed" + labels + " " +
                                            (result.passed() ? "1" : "0") + "\n");
      }
      if (global.json) {
        std::cout << result.to_json(report).dump() << "\n";
      } else if (!global.quiet) {
        std::cout << "drill " << (result.passed() ? "passed" : "FAILED") << ": recovery took "
                  << format_duration(result.measured_rto_s);
        if (result.rto_s) std::cout << " (RTO " << format_duration(double(*result.rto_s)) << ")";
        if (result.achieved_rpo_s) std::cout << ", oldest recovery point " << format_duration(double(*result.achieved_rpo_s)) << " old";
        if (result.rpo_s) std::cout << " (RPO " << format_duration(double(*result.rpo_s)) << ")";
        std::cout << "\nreport: " << report << "\n";
        for (const std::string& failure : result.failures) std::cout << "  " << failure << "\n";
      }
      return result.passed() ? 0 : static_cast<int>(ExitCode::error);
    };
  });
}

}  // namespace obkeep::cli
