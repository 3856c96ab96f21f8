#!/usr/bin/env bash
# DR sites from the deployment config: backup --config copies to the sites marked
# after_backup; copy --config [--site] copies each site's sets; status follows; a site that
# cannot be reached fails alone (exit 1), the others are still copied; a restore from a
# site gives back the primary's files.
source "$(dirname "$0")/../lib.sh"

obkeep sample-deployment "$TEST_DIR/dep" >/dev/null
km=$TEST_DIR/dep/wso2-obkm-1.5.0
am=$TEST_DIR/dep/wso2-obam-1.5.0
deployment_config "$km" "$am"
primary_password=$OBKEEP_PASSWORD
for site in dr1 dr2; do
  printf '%s-password\n' "$site" >"$TEST_DIR/$site.pw"
  OBKEEP_FROM_PASSWORD=$primary_password OBKEEP_PASSWORD=$site-password \
    obkeep -r "$TEST_DIR/$site" init --copy-params-from "$TEST_DIR/repo" >/dev/null
done
cat >>"$TEST_DIR/obkeep.toml" <<TOML
[policy.artifacts]
rpo = "4h"
sites = ["dr1"]
[policy.databases]
rpo = "1h"
sites = ["dr2"]
[[dr_site]]
name = "dr1"
url = "$TEST_DIR/dr1"
password_file = "$TEST_DIR/dr1.pw"
after_backup = true
[[dr_site]]
name = "dr2"
url = "$TEST_DIR/dr2"
password_file = "$TEST_DIR/dr2.pw"
TOML
site_snapshots() { # SITE TAG: how many snapshots with TAG the site has
  OBKEEP_PASSWORD=$1-password obkeep -r "$TEST_DIR/$1" snapshots --tag "$2" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'
}
verdict_of() { # SITE: the worst verdict of the site's objectives in $TEST_DIR/stdout
  python3 -c "
import json
order = ['met', 'at_risk', 'violated']
vs = [o['verdict'] for o in json.load(open('$TEST_DIR/stdout'))['objectives'] if (o['site'] or 'primary') == '$1']
print(max(vs, key=order.index))"
}

# 1. backup --config copies the artifacts to dr1 (after_backup), not to dr2.
expect_exit 0 obkeep backup --config "$TEST_DIR/obkeep.toml" --json
python3 -c "
import json
summary = json.loads(open('$TEST_DIR/stdout').read().splitlines()[-1])
copies = summary['dr_copies']
assert len(copies) == 1 and copies[0]['site'] == 'dr1' and copies[0]['ok'] and copies[0]['snapshots_copied'] == 2, copies
" || fail "after_backup copy: $(tail -n 1 "$TEST_DIR/stdout")"
[ "$(site_snapshots dr1 set=artifacts)" = 2 ] || fail "dr1 lacks the artifacts"
[ "$(site_snapshots dr1 set=databases)" = 0 ] || fail "dr1 got databases it does not hold"
[ "$(site_snapshots dr2 set=databases)" = 0 ] || fail "dr2 was copied to without after_backup"
expect_exit 5 obkeep status --config "$TEST_DIR/obkeep.toml" --json
[ "$(verdict_of dr1)" = met ] && [ "$(verdict_of dr2)" = violated ] && [ "$(verdict_of primary)" = met ] ||
  fail "status after the backup: $(cat "$TEST_DIR/stdout")"
pass "backup --config copies to the after_backup site only the sets it holds"

# 2. copy --config --site dr2 brings the databases there; status: all met.
expect_exit 0 obkeep copy --config "$TEST_DIR/obkeep.toml" --site dr2
grep -q "DR site dr2: [1-9][0-9]* snapshots copied" "$TEST_DIR/stdout" || fail "copy --site dr2: $(cat "$TEST_DIR/stdout")"
databases=$(obkeep -r "$TEST_DIR/repo" snapshots --tag set=databases --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$(site_snapshots dr2 set=databases)" = "$databases" ] || fail "dr2 has not every database snapshot"
[ "$(site_snapshots dr2 set=artifacts)" = 0 ] || fail "dr2 got artifacts it does not hold"
expect_exit 0 obkeep status --config "$TEST_DIR/obkeep.toml"
pass "copy --config --site copies the site's sets; every objective met"

# 3. A restore from a DR site gives back what the primary's snapshot holds.
OBKEEP_PASSWORD=dr1-password obkeep -r "$TEST_DIR/dr1" restore latest --target "$TEST_DIR/from-dr1" >/dev/null
original=$(OBKEEP_PASSWORD=dr1-password obkeep -r "$TEST_DIR/dr1" snapshots --json |
  python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["original"])')
obkeep -r "$TEST_DIR/repo" restore "$original" --target "$TEST_DIR/from-primary" >/dev/null
path=$(obkeep -r "$TEST_DIR/repo" snapshots --json | python3 -c "import json,sys; print([s for s in json.load(sys.stdin) if s['id'] == '$original'][0]['paths'][0])")
[ "$(tree_manifest "$TEST_DIR/from-dr1$path")" = "$(tree_manifest "$TEST_DIR/from-primary$path")" ] ||
  fail "the restore from dr1 differs from the primary's snapshot $original"
pass "a restore from the DR site equals the primary's snapshot, metadata included"

# 4. One site unreachable: the other is still copied, exit 1, the failure named once.
echo "change after the copies" >"$am/repository/conf/operator-note.txt"
obkeep backup --config "$TEST_DIR/obkeep.toml" --set artifacts -q
sed -i "s|^url = \"$TEST_DIR/dr2\"|url = \"$TEST_DIR/dr2-gone\"|" "$TEST_DIR/obkeep.toml"
expect_exit 1 obkeep copy --config "$TEST_DIR/obkeep.toml" --json
grep -c "copy to DR site dr2 failed" "$TEST_DIR/stderr" | grep -qx 1 || fail "dr2's failure not named once: $(cat "$TEST_DIR/stderr")"
python3 -c "
import json
lines = [json.loads(l) for l in open('$TEST_DIR/stdout')]
sites = {l['site']: l for l in lines}
assert sites['dr1']['ok'] and not sites['dr2']['ok'], lines
" || fail "copy --config with one site down: $(cat "$TEST_DIR/stdout")"
pass "an unreachable site fails alone (exit 1); the others are copied"

# 4b. copy --init makes the missing site (related to the primary, with the site's password)
# and copies its sets; the next copy --init finds it.
expect_exit 0 obkeep copy --config "$TEST_DIR/obkeep.toml" --site dr2 --init --json
python3 -c "
import json
line = json.loads(open('$TEST_DIR/stdout').read().splitlines()[-1])
assert line['ok'] and line['site_created'] and line['snapshots_copied'] > 0, line
" || fail "copy --init to the missing site: $(cat "$TEST_DIR/stdout")"
[ "$(OBKEEP_PASSWORD=dr2-password obkeep -r "$TEST_DIR/dr2-gone" snapshots --tag set=databases --json |
  python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = "$databases" ] || fail "the made site lacks database snapshots"
expect_exit 0 obkeep copy --config "$TEST_DIR/obkeep.toml" --init --json
python3 -c "
import json
sites = {l['site']: l for l in map(json.loads, open('$TEST_DIR/stdout'))}
assert sites['dr1']['ok'] and not sites['dr1']['site_created'] and sites['dr2']['ok'] and not sites['dr2']['site_created'], sites
assert sites['dr2']['snapshots_copied'] == 0, sites
" || fail "copy --init of existing sites: $(cat "$TEST_DIR/stdout")"
pass "copy --config --init makes a missing site related to the primary; existing sites are only opened"

# 5. Bad input.
expect_exit 2 obkeep copy --config "$TEST_DIR/obkeep.toml" --site nowhere
expect_one_line_error
expect_exit 2 obkeep copy --config "$TEST_DIR/obkeep.toml" --from-repo "$TEST_DIR/repo"
expect_one_line_error
pass "an unknown site, or --config with --from-repo: one-line usage errors"
