// `obkeep daemon --config FILE [--metrics-listen HOST:PORT] [--once]`: keeps the policy
// (see daemon/daemon.hpp), in the foreground for systemd; logs one line per job to stdout.
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/common.hpp"
#include "cli/deployment_context.hpp"
#include "daemon/archiver_supervisor.hpp"
#include "daemon/daemon.hpp"
#include "daemon/deployment_keeper.hpp"
#include "daemon/http_listener.hpp"
#include "daemon/log_line.hpp"
#include "util/interrupt.hpp"

namespace obkeep::cli {

namespace {

// `obkeep binlog-archive` for every MariaDB/MySQL database, when [policy.databases] has pitr.
std::vector<daemon::ArchiverSupervisor::Command> binlog_archivers(const deploy::Config& config,
                                                                  const deploy::Discovery& discovery) {
  auto policy = config.policies.find("databases");
  if (policy == config.policies.end() || !policy->second.pitr) return {};
  std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  std::string config_path = std::filesystem::absolute(config.path).string();
  std::vector<daemon::ArchiverSupervisor::Command> commands;
  for (const deploy::Database& database : discovery.databases)
    if (database.engine == deploy::Engine::mysql)
      commands.push_back({database.display_name(),
                          {self, "--config", config_path, "binlog-archive", "--database", database.display_name()}});
  return commands;
}

}  // namespace

void add_daemon_command(CLI::App& app, Context& context) {
  auto* command = app.add_subcommand(
      "daemon", "keep the policy: backups, copies to DR sites, prunes, verification and drills when due; alerts; metrics");
  struct Options {
    std::string metrics_listen;
    bool once = false;
  };
  auto options = std::make_shared<Options>();
  command->add_option("--metrics-listen", options->metrics_listen,
                      "serve /metrics (Prometheus), /status.json and a status page (/) on HOST:PORT");
  command->add_flag("--once", options->once, "run what is due now, then exit (for a systemd timer)");
  command->callback([&context, options] {
    context.action = [&context, options] {
      DeploymentContext deployment = load_deployment(context.global, "daemon");
      const deploy::Config& config = deployment.config;
      // Stopping the daemon is its normal end: exit 0 even if a job had to be abandoned.
      set_forced_exit_code(0);
      ops::Log log = [](ops::LogLevel level, const std::string& text) {
        static const char* const names[] = {"error", "warning", "note", "output"};
        std::string message = text;
        while (!message.empty() && message.back() == '\n') message.pop_back();
        daemon::write_log_line(std::cout, level == ops::LogLevel::error,
                               daemon::logfmt("level", names[static_cast<int>(level)]) + daemon::logfmt("message", message));
      };
      daemon::DeploymentKeeper keeper(config, deployment.discovery, deployment.primary, log);
      daemon::Alerts alerts({config.alerts.command, config.alerts.webhook, static_cast<int>(config.alerts.timeout_s)});
      daemon::DaemonOptions settings;
      settings.observe_every_s = config.daemon.observe_every_s;
      settings.history_s = config.daemon.history_s;
      settings.once = options->once;
      daemon::Daemon keeper_loop(keeper, std::move(alerts), settings, std::cout);
      std::unique_ptr<daemon::HttpListener> listener;
      if (!options->metrics_listen.empty()) {
        listener = std::make_unique<daemon::HttpListener>(
            options->metrics_listen,
            std::map<std::string, daemon::HttpListener::Handler>{
                {"/metrics", [&] { return daemon::HttpAnswer{"text/plain; version=0.0.4; charset=utf-8", keeper_loop.metrics()}; }},
                {"/status.json", [&] { return daemon::HttpAnswer{"application/json", keeper_loop.status_json().dump() + "\n"}; }},
                {"/", [&] { return daemon::HttpAnswer{"text/html; charset=utf-8", keeper_loop.status_html()}; }}});
        auto [host, port] = daemon::parse_host_port(options->metrics_listen);
        daemon::write_log_line(std::cout, false, daemon::logfmt("listening", host + ":" + std::to_string(listener->port())));
      }
      std::unique_ptr<daemon::ArchiverSupervisor> archivers;
      if (!options->once) {
        std::vector<daemon::ArchiverSupervisor::Command> commands = binlog_archivers(config, deployment.discovery);
        if (!commands.empty())
          archivers = std::make_unique<daemon::ArchiverSupervisor>(
              std::move(commands), [](bool ok, const std::string& fields) { daemon::write_log_line(std::cout, !ok, fields); });
      }
      return keeper_loop.run();
    };
  });
}

}  // namespace obkeep::cli
