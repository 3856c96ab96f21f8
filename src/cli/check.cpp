// `obkeep check [--read-data | --read-data-subset N%]`: verify the repository.
#include <iostream>

#include "cli/common.hpp"
#include "ops/verify.hpp"
#include "util/error.hpp"

namespace obkeep::cli {

static double parse_subset(const std::string& text) {
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

void add_check_command(CLI::App& app, Context& context) {
  auto* command = app.add_subcommand("check", "check the repository for errors");
  struct Options {
    bool read_data = false;
    std::string subset;
  };
  auto options = std::make_shared<Options>();
  command->add_flag("--read-data", options->read_data, "read and verify every pack");
  command->add_option("--read-data-subset", options->subset, "read and verify a random N% of the packs");
  command->callback([&context, options] {
    context.action = [&context, options] {
      const GlobalOptions& global = context.global;
      auto repository = open_repository(global);
      ops::VerifyOptions check;
      if (options->read_data) check.read_fraction = 1;
      if (!options->subset.empty()) check.read_fraction = parse_subset(options->subset);
      repo::CheckResult result = ops::verify(*repository, check);
      for (const auto& warning : result.warnings) std::cerr << "warning: " << warning << "\n";
      for (const auto& error : result.errors) std::cerr << "error: " << error << "\n";
      for (const auto& affected : result.affected) std::cerr << "affected: " << affected << "\n";
      if (global.json) {
        std::cout << nlohmann::json{{"message_type", "check"}, {"errors", result.errors},
                                    {"warnings", result.warnings}, {"affected", result.affected},
                                    {"snapshots", result.snapshots}, {"packs", result.packs},
                                    {"packs_read", result.packs_read}, {"blobs_read", result.blobs_read}}
                         .dump()
                  << "\n";
      } else if (!global.quiet) {
        std::cout << "checked " << result.snapshots << " snapshots, " << result.trees << " trees, " << result.packs
                  << " packs";
        if (check.read_fraction > 0) std::cout << " (read " << result.packs_read << " packs, " << result.blobs_read << " blobs)";
        std::cout << ": " << (result.errors.empty() ? "no errors were found" : std::to_string(result.errors.size()) + " errors") << "\n";
      }
      if (!result.errors.empty())
        throw Error("check found " + std::to_string(result.errors.size()) + " errors in repository " +
                    repository->backend().location() + " (listed above)");
      return 0;
    };
  });
}

}  // namespace obkeep::cli
