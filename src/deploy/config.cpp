// obkeep.toml parsing with strict keys.
#include "deploy/config.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "storage/s3/s3_url.hpp"
#include "util/error.hpp"

namespace obkeep::deploy {

const char* const set_names[3] = {"databases", "artifacts", "instance"};

namespace {

class Reader {
 public:
  explicit Reader(std::string path) : path_(std::move(path)) {}

  // "<file>:<line>"; every message about the config starts with it.
  std::string at(const toml::node& node) const { return path_ + ":" + std::to_string(node.source().begin.line); }

  // A config that is wrong is a usage error (exit 2): nothing was tried yet.
  [[noreturn]] void fail(const toml::node& node, const std::string& key, const std::string& what) const {
    throw Error(at(node) + ": " + key + ": " + what, ExitCode::usage);
  }

  // `section` as the file spells it ("[policy.databases]", "[[dr_site]]"; empty: the top level).
  void check_keys(const toml::table& table, const std::string& section, std::initializer_list<const char*> allowed) const {
    for (const auto& [key, node] : table) {
      std::string name(key.str());
      if (std::any_of(allowed.begin(), allowed.end(), [&](const char* a) { return name == a; })) continue;
      std::string known;
      for (const char* a : allowed) known += (known.empty() ? "" : ", ") + std::string(a);
      throw Error(at(node) + ": unknown key \"" + name + "\"" + (section.empty() ? " at the top level" : " in " + section) +
                      " (known: " + known + ")",
                  ExitCode::usage);
    }
  }

  std::string string(const toml::table& table, const char* key, const std::string& where) const {
    const toml::node* node = table.get(key);
    if (!node) return "";
    if (!node->is_string()) fail(*node, where + "." + key, "must be a string");
    return *node->value<std::string>();
  }

  std::string path(const toml::table& table, const char* key, const std::string& where) const {
    std::string value = string(table, key, where);
    if (value.empty() || value.find("://") != std::string::npos) return value;
    std::filesystem::path resolved(value);
    if (resolved.is_relative()) resolved = std::filesystem::path(path_).parent_path() / resolved;
    return resolved.lexically_normal().string();
  }

  std::vector<std::string> strings(const toml::table& table, const char* key, const std::string& where) const {
    std::vector<std::string> out;
    const toml::node* node = table.get(key);
    if (!node) return out;
    const toml::array* array = node->as_array();
    if (!array) fail(*node, where + "." + key, "must be a list of strings");
    for (const toml::node& item : *array) {
      if (!item.is_string()) fail(item, where + "." + key, "must be a list of strings");
      out.push_back(*item.value<std::string>());
    }
    return out;
  }

  std::optional<int64_t> integer(const toml::table& table, const char* key, const std::string& where) const {
    const toml::node* node = table.get(key);
    if (!node) return std::nullopt;
    if (!node->is_integer() || *node->value<int64_t>() < 0) fail(*node, where + "." + key, "must be a whole number >= 0");
    return *node->value<int64_t>();
  }

  std::optional<int64_t> duration(const toml::table& table, const char* key, const std::string& where) const {
    const toml::node* node = table.get(key);
    if (!node) return std::nullopt;
    if (!node->is_string()) fail(*node, where + "." + key, "must be a duration such as \"15m\"");
    try {
      return parse_duration(*node->value<std::string>(), "");
    } catch (const Error& e) {
      fail(*node, where + "." + key, std::string(e.what()).substr(2));  // without the empty "where: "
    }
  }

  const toml::table& table(const toml::node& node, const std::string& where) const {
    const toml::table* t = node.as_table();
    if (!t) fail(node, where, "must be a table");
    return *t;
  }

  const std::string& file() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

int64_t parse_duration(const std::string& text, const std::string& where) {
  if (text.empty()) throw Error(where + ": empty duration");
  int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    if (i == start || i == text.size() || i - start > 9)
      throw Error(where + ": bad duration '" + text + "' (use 30s, 15m, 4h, 1d)");
    int64_t number = std::stoll(text.substr(start, i - start));
    switch (text[i]) {
      case 's': total += number; break;
      case 'm': total += number * 60; break;
      case 'h': total += number * 3600; break;
      case 'd': total += number * 86400; break;
      case 'w': total += number * 7 * 86400; break;
      default: throw Error(where + ": bad duration unit in '" + text + "' (use s, m, h, d, w)");
    }
    ++i;
  }
  if (total <= 0) throw Error(where + ": duration must be positive: " + text);
  return total;
}

const DatabaseOverride* Config::override_for(const std::string& name) const {
  for (const auto& entry : databases)
    if (entry.name == name) return &entry;
  return nullptr;
}

Config load_config(const std::string& path) {
  toml::table document;
  try {
    document = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    if (!std::filesystem::exists(path)) throw Error("config file not found: " + path, ExitCode::usage);
    throw Error(path + ":" + std::to_string(e.source().begin.line) + ": malformed TOML: " + std::string(e.description()),
                ExitCode::usage);
  }
  Reader reader(std::filesystem::absolute(path).lexically_normal().string());
  Config config;
  config.path = reader.file();
  reader.check_keys(document, "",
                    {"repository", "deployment", "sets", "database", "hooks", "policy", "dr_site", "daemon", "alerts"});

  if (const toml::node* node = document.get("repository")) {
    const toml::table& repository = reader.table(*node, "repository");
    reader.check_keys(repository, "[repository]", {"url", "password_file"});
    config.repository_url = reader.path(repository, "url", "repository");
    config.password_file = reader.path(repository, "password_file", "repository");
  }
  if (const toml::node* node = document.get("deployment")) {
    const toml::table& deployment = reader.table(*node, "deployment");
    reader.check_keys(deployment, "[deployment]", {"homes"});
    for (const std::string& home : reader.strings(deployment, "homes", "deployment")) {
      std::filesystem::path resolved(home);
      if (resolved.is_relative()) resolved = std::filesystem::path(config.path).parent_path() / resolved;
      config.homes.push_back(resolved.lexically_normal().string());
    }
  }
  if (const toml::node* node = document.get("sets")) {
    const toml::table& sets = reader.table(*node, "sets");
    reader.check_keys(sets, "[sets]", {"databases", "artifacts", "instance"});
    for (const auto& [name, value] : sets) {
      std::string where = "sets." + std::string(name.str());
      const toml::table& set = reader.table(value, where);
      reader.check_keys(set, "[" + where + "]", {"exclude"});
      config.sets[std::string(name.str())].exclude = reader.strings(set, "exclude", where);
    }
  }
  if (const toml::node* node = document.get("database")) {
    const toml::array* list = node->as_array();
    if (!list || !list->is_array_of_tables()) reader.fail(*node, "database", "must be an array of tables ([[database]])");
    for (const toml::node& item : *list) {
      const toml::table& table = reader.table(item, "database");
      reader.check_keys(table, "[[database]]", {"name", "user", "password_file", "password_env", "host", "port",
                                            "backup_command", "restore_command", "java", "h2_jar",
                                            "quiesce_command", "resume_command"});
      DatabaseOverride entry;
      entry.name = reader.string(table, "name", "database");
      if (entry.name.empty()) reader.fail(table, "database.name", "is required");
      entry.user = reader.string(table, "user", "database");
      entry.password_file = reader.path(table, "password_file", "database");
      entry.password_env = reader.string(table, "password_env", "database");
      entry.host = reader.string(table, "host", "database");
      if (auto port = reader.integer(table, "port", "database")) {
        if (*port < 1 || *port > 65535) reader.fail(*table.get("port"), "database.port", "must be 1-65535");
        entry.port = static_cast<int>(*port);
      }
      entry.backup_command = reader.string(table, "backup_command", "database");
      entry.restore_command = reader.string(table, "restore_command", "database");
      entry.java = reader.path(table, "java", "database");
      entry.h2_jar = reader.path(table, "h2_jar", "database");
      entry.quiesce_command = reader.string(table, "quiesce_command", "database");
      entry.resume_command = reader.string(table, "resume_command", "database");
      config.databases.push_back(entry);
    }
  }
  if (const toml::node* node = document.get("hooks")) {
    const toml::table& hooks = reader.table(*node, "hooks");
    reader.check_keys(hooks, "[hooks]", {"before_backup", "after_backup"});
    config.before_backup = reader.string(hooks, "before_backup", "hooks");
    config.after_backup = reader.string(hooks, "after_backup", "hooks");
  }
  if (const toml::node* node = document.get("policy")) {
    const toml::table& policies = reader.table(*node, "policy");
    reader.check_keys(policies, "[policy]", {"databases", "artifacts", "instance"});
    for (const auto& [name, value] : policies) {
      std::string where = "policy." + std::string(name.str());
      const toml::table& table = reader.table(value, where);
      reader.check_keys(table, "[" + where + "]", {"rpo", "rto", "frequency", "keep_last", "keep_daily", "keep_weekly",
                                       "keep_monthly", "sites", "pitr", "pitr_window"});
      Policy policy;
      if (const toml::node* flag = table.get("pitr")) {
        if (!flag->is_boolean()) reader.fail(*flag, where + ".pitr", "must be true or false");
        policy.pitr = *flag->value<bool>();
      }
      policy.rpo_s = reader.duration(table, "rpo", where);
      policy.rto_s = reader.duration(table, "rto", where);
      if (policy.rto_s)
        policy.rto_source = reader.at(*table.get("rto")) + ": rto \"" + *table.get("rto")->value<std::string>() + "\"";
      policy.frequency_s = reader.duration(table, "frequency", where);
      policy.pitr_window_s = reader.duration(table, "pitr_window", where);
      auto keep = [&](const char* key) -> std::optional<int> {
        auto value = reader.integer(table, key, where);
        return value ? std::optional<int>(static_cast<int>(*value)) : std::nullopt;
      };
      policy.keep_last = keep("keep_last");
      policy.keep_daily = keep("keep_daily");
      policy.keep_weekly = keep("keep_weekly");
      policy.keep_monthly = keep("keep_monthly");
      policy.sites = reader.strings(table, "sites", where);
      // Backups further apart than the RPO leave the newest recovery point older than it.
      if (policy.frequency_s && policy.rpo_s && *policy.frequency_s > *policy.rpo_s)
        throw Error(reader.at(*table.get("frequency")) + ": frequency \"" + *table.get("frequency")->value<std::string>() +
                        "\" in [" + where + "] is longer than its rpo \"" + *table.get("rpo")->value<std::string>() +
                        "\": backups that far apart cannot meet it",
                    ExitCode::usage);
      config.policies[std::string(name.str())] = policy;
    }
  }
  if (const toml::node* node = document.get("daemon")) {
    const toml::table& table = reader.table(*node, "daemon");
    reader.check_keys(table, "[daemon]",
                      {"prune_every", "verify_every", "verify_period", "drill_every", "copy_every", "observe_every", "history", "wal_every"});
    DaemonSettings& daemon = config.daemon;
    daemon.prune_every_s = reader.duration(table, "prune_every", "daemon").value_or(daemon.prune_every_s);
    daemon.verify_every_s = reader.duration(table, "verify_every", "daemon").value_or(daemon.verify_every_s);
    daemon.verify_period_s = reader.duration(table, "verify_period", "daemon").value_or(daemon.verify_period_s);
    daemon.drill_every_s = reader.duration(table, "drill_every", "daemon");
    daemon.wal_every_s = reader.duration(table, "wal_every", "daemon");
    daemon.copy_every_s = reader.duration(table, "copy_every", "daemon").value_or(daemon.copy_every_s);
    daemon.observe_every_s = reader.duration(table, "observe_every", "daemon").value_or(daemon.observe_every_s);
    daemon.history_s = reader.duration(table, "history", "daemon").value_or(daemon.history_s);
    if (daemon.verify_period_s < daemon.verify_every_s)
      reader.fail(*table.get("verify_period"), "daemon.verify_period", "must be at least verify_every");
  }
  if (const toml::node* node = document.get("alerts")) {
    const toml::table& table = reader.table(*node, "alerts");
    reader.check_keys(table, "[alerts]", {"command", "webhook", "timeout"});
    config.alerts.command = reader.string(table, "command", "alerts");
    config.alerts.webhook = reader.string(table, "webhook", "alerts");
    if (!config.alerts.webhook.empty() && config.alerts.webhook.rfind("http://", 0) != 0 &&
        config.alerts.webhook.rfind("https://", 0) != 0)
      reader.fail(*table.get("webhook"), "alerts.webhook", "must be an http:// or https:// URL");
    config.alerts.timeout_s = reader.duration(table, "timeout", "alerts").value_or(config.alerts.timeout_s);
  }
  std::vector<std::string> site_lines;  // "<file>:<line>" of each [[dr_site]], for the warnings below
  if (const toml::node* node = document.get("dr_site")) {
    const toml::array* list = node->as_array();
    if (!list || !list->is_array_of_tables()) reader.fail(*node, "dr_site", "must be an array of tables ([[dr_site]])");
    for (const toml::node& item : *list) {
      const toml::table& table = reader.table(item, "dr_site");
      reader.check_keys(table, "[[dr_site]]",
                        {"name", "url", "password_file", "sets", "after_backup", "limit_upload", "limit_download",
                         "object_lock_days", "object_lock_mode"});
      DrSite site;
      site.name = reader.string(table, "name", "dr_site");
      site.url = reader.path(table, "url", "dr_site");
      if (site.name.empty() || site.url.empty()) reader.fail(table, "dr_site", "needs a name and a url");
      site.password_file = reader.path(table, "password_file", "dr_site");
      site.sets = reader.strings(table, "sets", "dr_site");
      if (const toml::node* flag = table.get("after_backup")) {
        if (!flag->is_boolean()) reader.fail(*flag, "dr_site.after_backup", "must be true or false");
        site.after_backup = *flag->value<bool>();
      }
      // KiB/s, as --limit-upload/--limit-download; the bound keeps bytes/s from overflowing.
      auto limit = [&](const char* key) {
        std::optional<int64_t> kib = reader.integer(table, key, "dr_site");
        if (kib && *kib > (int64_t(1) << 32))
          reader.fail(*table.get(key), std::string("dr_site.") + key, "KiB/s up to 4294967296 (0: unlimited)");
        return kib ? std::optional<uint64_t>(static_cast<uint64_t>(*kib)) : std::nullopt;
      };
      site.limit_upload_kib = limit("limit_upload");
      site.limit_download_kib = limit("limit_download");
      if (std::optional<int64_t> days = reader.integer(table, "object_lock_days", "dr_site")) {
        if (*days < 1 || *days > storage::max_object_lock_days)
          reader.fail(*table.get("object_lock_days"), "dr_site.object_lock_days",
                      "days from 1 to " + std::to_string(storage::max_object_lock_days));
        if (!storage::is_s3_url(site.url))
          reader.fail(*table.get("object_lock_days"), "dr_site.object_lock_days",
                      "only an s3:// site can lock objects");
        site.object_lock.days = static_cast<unsigned>(*days);
      }
      if (const toml::node* mode = table.get("object_lock_mode")) {
        if (!site.object_lock.enabled()) reader.fail(*mode, "dr_site.object_lock_mode", "needs object_lock_days");
        try {
          std::string text = reader.string(table, "object_lock_mode", "dr_site");
          site.object_lock.mode = storage::parse_object_lock_mode(text, "");
        } catch (const Error&) {
          reader.fail(*mode, "dr_site.object_lock_mode", "compliance or governance");
        }
      }
      for (const auto& set : site.sets)
        if (std::find(std::begin(set_names), std::end(set_names), set) == std::end(set_names))
          reader.fail(table, "dr_site.sets", "unknown set '" + set + "' (databases, artifacts, instance)");
      config.dr_sites.push_back(site);
      site_lines.push_back(reader.at(table));
    }
  }
  std::set<std::string> used;
  for (const auto& [set, policy] : config.policies)
    for (const auto& site : policy.sites) {
      used.insert(site);
      if (std::none_of(config.dr_sites.begin(), config.dr_sites.end(), [&](const DrSite& d) { return d.name == site; }))
        throw Error(reader.at(*document.at_path("policy." + set + ".sites").node()) + ": policy." + set +
                        ".sites: no [[dr_site]] named '" + site + "'",
                    ExitCode::usage);
    }
  for (size_t i = 0; i < config.dr_sites.size(); ++i) {
    const DrSite& site = config.dr_sites[i];
    if (site.sets.empty() && !used.count(site.name))
      config.warnings.push_back(site_lines[i] + ": [[dr_site]] \"" + site.name +
                                "\" has no sets and no policy's sites names it, so every set is copied there "
                                "(give it sets = [...] or name it in a [policy.<set>] sites list)");
  }
  return config;
}

}  // namespace obkeep::deploy
