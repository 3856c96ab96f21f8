// The deployment config (obkeep.toml): repository, homes, sets, credentials, hooks,
// policy and DR sites. Unknown keys and bad values are errors naming key and file.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "storage/s3/object_lock.hpp"

namespace obkeep::deploy {

struct DatabaseOverride {
  std::string name;  // a datasource name (WSO2AM_DB) or a discovered database name/path
  std::string user;
  std::string password_file;
  std::string password_env;
  std::string host;
  std::optional<int> port;
  std::string backup_command;   // engines without native support: stdout is the dump
  std::string restore_command;  // fed the dump on stdin
  std::string java;             // H2: the java binary
  std::string h2_jar;           // H2: the jar matching the files' format
  std::string quiesce_command;  // H2 without AUTO_SERVER: run before copying live files
  std::string resume_command;
};

struct SetConfig {
  std::vector<std::string> exclude;
};

struct Policy {
  std::optional<int64_t> rpo_s, rto_s, frequency_s;
  std::optional<int> keep_last, keep_daily, keep_weekly, keep_monthly;
  std::vector<std::string> sites;
  std::string rto_source;  // "<file>:<line>: rto \"30m\"", for messages about it
  bool pitr = false;  // [policy.databases]: the daemon archives each MariaDB/MySQL binlog
  // [policy.databases]: how far back every point stays recoverable through the binlog
  // archive; forget then keeps the backup it starts from and drops older archive pieces.
  std::optional<int64_t> pitr_window_s;
};

struct DrSite {
  std::string name, url, password_file;
  std::vector<std::string> sets;
  bool after_backup = false;
  // KiB/s to the site (copies) and from it (drills, restores); absent or 0: unlimited.
  std::optional<uint64_t> limit_upload_kib, limit_download_kib;
  // S3 sites: retention for every object written there (object_lock_days, object_lock_mode).
  storage::ObjectLock object_lock;
};

// [daemon]: how often the daemon's housekeeping runs (backups and copies follow the policy).
struct DaemonSettings {
  int64_t prune_every_s = 86400;        // forget by the keep_* rules, then prune
  int64_t verify_every_s = 86400;       // read and verify a part of the packs
  int64_t verify_period_s = 30 * 86400;  // ... so that every pack is read within this
  std::optional<int64_t> drill_every_s;  // absent: no scheduled drills
  // How often a PostgreSQL server's WAL archive is checked and its segment switched when
  // stale; absent: as often as the databases set is backed up.
  std::optional<int64_t> wal_every_s;
  int64_t copy_every_s = 3600;          // a site holding no set with a frequency or rpo
  int64_t observe_every_s = 30;         // read the repositories again when nothing is due
  int64_t history_s = 7 * 86400;        // how far back the status page's charts go
};

// [alerts]: where events go.
struct AlertSettings {
  std::string command;  // run with /bin/sh -c, the event as JSON on stdin
  std::string webhook;  // the event POSTed as JSON
  int64_t timeout_s = 10;
};

struct Config {
  std::string path;
  std::string repository_url;
  std::string password_file;
  std::vector<std::string> homes;
  std::map<std::string, SetConfig> sets;  // "artifacts", "instance", "databases"
  std::vector<DatabaseOverride> databases;
  std::string before_backup, after_backup;
  std::map<std::string, Policy> policies;
  std::vector<DrSite> dr_sites;
  DaemonSettings daemon;
  AlertSettings alerts;
  // "<file>:<line>: …" for what is allowed but likely a mistake (a DR site no set goes to
  // by choice); the caller shows them (the CLI on stderr, a daemon in its log).
  std::vector<std::string> warnings;

  const DatabaseOverride* override_for(const std::string& name) const;
};

// Throws Error (exit 2) "<file>:<line>: <key>: <what>", or for a key obkeep does not read
// "<file>:<line>: unknown key "<key>" in [<section>] (known: …)". A policy whose frequency
// is longer than its rpo is an error too; what is odd but allowed goes to Config::warnings.
Config load_config(const std::string& path);

// "30s", "15m", "4h", "1d" (and combinations like "1h30m") to seconds; throws Error naming `where`.
int64_t parse_duration(const std::string& text, const std::string& where);

extern const char* const set_names[3];

}  // namespace obkeep::deploy
