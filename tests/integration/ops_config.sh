#!/usr/bin/env bash
# --config everywhere: with only --config (or OBKEEP_CONFIG) every command finds the
# repository and its password in the config; --site opens a DR site's repository instead;
# -r wins over the config. The checks made when the config is loaded: unknown keys and a
# frequency longer than its rpo are one-line errors naming file:line and key (exit 2); a
# site that no set goes to by choice is a warning.
source "$(dirname "$0")/../lib.sh"

obkeep sample-deployment "$TEST_DIR/dep" >/dev/null
km=$TEST_DIR/dep/wso2-obkm-1.5.0
am=$TEST_DIR/dep/wso2-obam-1.5.0
echo "primary-password" >"$TEST_DIR/repo.pw"
echo "dr1-password" >"$TEST_DIR/dr1.pw"
config=$TEST_DIR/obkeep.toml
cat >"$config" <<TOML
[repository]
url = "$TEST_DIR/repo"
password_file = "$TEST_DIR/repo.pw"
[deployment]
homes = ["$km", "$am"]
[policy.artifacts]
rpo = "1h"
frequency = "15m"
keep_last = 1
sites = ["dr1"]
[[dr_site]]
name = "dr1"
url = "$TEST_DIR/dr1"
password_file = "$TEST_DIR/dr1.pw"
TOML
unset OBKEEP_PASSWORD  # every password comes from the config
count() { python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }

# 1. init, backup, snapshots, ls with only the config.
expect_exit 0 obkeep --config "$config" init
expect_exit 0 obkeep init --config "$config" --site dr1 --copy-params-from "$TEST_DIR/repo" --from-password-file "$TEST_DIR/repo.pw"
[ -f "$TEST_DIR/dr1/config" ] || fail "init --site dr1 made no repository at the site"
expect_exit 0 obkeep backup --config "$config" --set artifacts --set instance
[ "$(obkeep snapshots --config "$config" --json | count)" = 4 ] || fail "want 4 snapshots (2 homes x 2 sets)"
[ "$(OBKEEP_CONFIG=$config obkeep snapshots --json | count)" = 4 ] || fail "OBKEEP_CONFIG: want 4 snapshots"
expect_exit 0 obkeep ls --config "$config" latest
grep -q "repository" "$TEST_DIR/stdout" || fail "ls latest lists no repository/: $(cat "$TEST_DIR/stdout")"
pass "init (primary and --site), backup, snapshots (--config and OBKEEP_CONFIG) and ls find the repository and password in the config"

# 2. restore --set artifacts --home H with only --config.
conf=$(find "$km/repository/conf" -maxdepth 1 -type f -print -quit)
cp "$conf" "$TEST_DIR/conf.orig"
echo "<!-- broken by hand -->" >"$conf"
expect_exit 0 obkeep restore latest --set artifacts --home "$km" --config "$config"
cmp -s "$conf" "$TEST_DIR/conf.orig" || fail "restore --set artifacts --config did not bring back $conf"
pass "restore --set artifacts --home --config replaces repository/ from the config's repository"

# 3. check, forget by the policy's keep_last, prune.
expect_exit 0 obkeep backup --config "$config" --set artifacts -q
[ "$(obkeep snapshots --config "$config" --tag set=artifacts --json | count)" = 4 ] || fail "want 4 artifacts snapshots"
expect_exit 0 obkeep check --config "$config" --read-data
grep -q "no errors were found" "$TEST_DIR/stdout" || fail "check: $(cat "$TEST_DIR/stdout")"
expect_exit 0 env OBKEEP_CONFIG="$config" "$OBKEEP_BIN" forget --json
python3 -c "import json,sys; r=json.load(open('$TEST_DIR/stdout')); assert r['removed'] == 2, r" ||
  fail "forget by policy keep_last = 1: $(cat "$TEST_DIR/stdout")"
[ "$(obkeep snapshots --config "$config" --tag set=artifacts --json | count)" = 2 ] || fail "want 1 artifacts snapshot a home"
[ "$(obkeep snapshots --config "$config" --tag set=instance --json | count)" = 2 ] || fail "forget touched the instance set"
expect_exit 0 obkeep prune --config "$config"
grep -q "^deleted" "$TEST_DIR/stdout" || fail "prune: $(cat "$TEST_DIR/stdout")"
expect_exit 0 obkeep check --config "$config"
pass "check, forget by the policy's keep_last (only that set) and prune with only the config"

# 4. --site: after a copy, the site's snapshots.
expect_exit 0 obkeep copy --config "$config"
[ "$(obkeep snapshots --config "$config" --site dr1 --json | count)" = 2 ] || fail "dr1 should hold the 2 artifacts snapshots"
[ "$(obkeep --site dr1 snapshots --config "$config" --tag set=instance --json | count)" = 0 ] || fail "dr1 holds instance snapshots"
expect_exit 0 obkeep check --config "$config" --site dr1
pass "copy --config, then snapshots and check --site dr1 open the site's repository with its password file"

# 5. -r wins over the config's repository; the config's password still applies.
OBKEEP_PASSWORD=primary-password obkeep -r "$TEST_DIR/other" init >/dev/null
[ "$(obkeep -r "$TEST_DIR/other" --config "$config" snapshots --json | count)" = 0 ] || fail "-r did not win over --config"
pass "-r/--repo wins over the config's [repository] url"

# 6. Usage errors: one line naming the site or file:line and key.
expect_exit 2 obkeep snapshots --config "$config" --site nowhere
expect_one_line_error
expect_stderr_matches "no DR site named nowhere in $config"
expect_exit 2 obkeep restore latest --set artifacts --home "$km" --config "$config" --site nowhere
expect_one_line_error
expect_exit 2 obkeep -r "$TEST_DIR/repo" snapshots --site dr1
expect_one_line_error
expect_stderr_matches "--site dr1 needs --config"
expect_exit 2 obkeep status
expect_stderr_matches "status needs --config"
bad() { # NAME TOML WANT-REGEX: a config with TOML appended fails every command at load
  sed '/^\[\[dr_site\]\]/,$d' "$config" >"$TEST_DIR/$1.toml"
  printf '%s\n' "$2" >>"$TEST_DIR/$1.toml"
  expect_exit 2 obkeep snapshots --config "$TEST_DIR/$1.toml"
  expect_one_line_error
  expect_stderr_matches "$3"
}
bad unknown $'[policy.databases]\nrpo_seconds = 3600' 'unknown.toml:12: unknown key "rpo_seconds" in \[policy.databases\]'
bad frequency $'[policy.instance]\nrpo = "1h"\nfrequency = "2h"' \
  'frequency.toml:13: frequency "2h" in \[policy.instance\] is longer than its rpo "1h"'
bad sitekey $'[[dr_site]]\nname = "dr1"\nurl = "/srv/dr1"\nafter_backups = true' \
  'sitekey.toml:14: unknown key "after_backups" in \[\[dr_site\]\]'
pass "an unknown site, --site without --config, an unknown key, an impossible policy: one-line usage errors (exit 2)"

# 7. A DR site no set goes to by choice: a warning, the command still runs.
cp "$config" "$TEST_DIR/idle.toml"
printf '[[dr_site]]\nname = "idle"\nurl = "%s"\n' "$TEST_DIR/idle" >>"$TEST_DIR/idle.toml"
expect_exit 0 obkeep snapshots --config "$TEST_DIR/idle.toml" --json
expect_one_line_error
expect_stderr_matches 'warning: .*idle.toml:15: \[\[dr_site\]\] "idle" has no sets and no policy'
pass "a DR site with no sets that no policy names: one warning line naming file:line and site"
