#!/usr/bin/env bash
# obkeep drill on the generated OB 1.5 sample: restores every server directory, its newer
# repository/ and every database into a sandbox the way a recovery would, verifies them,
# measures the recovery time against the RTO; from the primary or a DR site; fails (exit 1)
# on missing or damaged recovery points and on a breached RTO, with an HTML report.
source "$(dirname "$0")/../lib.sh"

cd "$TEST_DIR"  # drills write their HTML report into the current directory
obkeep sample-deployment "$TEST_DIR/dep" >/dev/null
km=$TEST_DIR/dep/wso2-obkm-1.5.0
am=$TEST_DIR/dep/wso2-obam-1.5.0
deployment_config "$km" "$am"
primary_password=$OBKEEP_PASSWORD
printf 'dr-password\n' >"$TEST_DIR/dr.pw"
OBKEEP_FROM_PASSWORD=$primary_password OBKEEP_PASSWORD=dr-password obkeep -r "$TEST_DIR/dr" init --copy-params-from "$TEST_DIR/repo" >/dev/null
cat >>"$TEST_DIR/obkeep.toml" <<TOML
[policy.databases]
rpo = "1h"
rto = "30m"
[policy.artifacts]
rpo = "4h"
[[dr_site]]
name = "dr1"
url = "$TEST_DIR/dr"
password_file = "$TEST_DIR/dr.pw"
sets = ["databases", "artifacts", "instance"]
TOML
databases=$(obkeep discover --home "$km" --home "$am" --json | python3 -c "import json, sys; print(len(json.load(sys.stdin)['databases']))")
drill_field() { python3 -c "import json,sys; print(json.loads(open('$TEST_DIR/stdout').read().splitlines()[-1])['$1'])"; }

obkeep backup --config "$TEST_DIR/obkeep.toml" -q
# An artifact deployed after the full backup: the drill must bring it back through the artifacts set.
echo '<api name="accounts-v4"/>' >"$am/repository/deployment/server/synapse-configs/default/api/accounts-v4.xml"
obkeep backup --config "$TEST_DIR/obkeep.toml" --set artifacts -q

# 1. From the primary: passed, every step ok, the sandbox holds the homes as they are now.
expect_exit 0 obkeep drill --config "$TEST_DIR/obkeep.toml" --sandbox "$TEST_DIR/sandbox" --keep \
  --report "$TEST_DIR/drill.html" --prometheus "$TEST_DIR/drill.prom" --json
[ "$(drill_field verdict)" = passed ] || fail "drill: $(cat "$TEST_DIR/stdout")"
python3 -c "
import json
d = json.loads(open('$TEST_DIR/stdout').read().splitlines()[-1])
names = [s['name'] for s in d['steps']]
assert all(s['ok'] for s in d['steps']), d['steps']
assert sum(n.startswith('restore server directory') for n in names) == 2, names
assert sum(n.startswith('replace repository/') for n in names) == 2, names
assert sum(n.startswith('restore database') for n in names) == $databases, names
assert d['rto_s'] == 1800 and d['rpo_s'] == 3600, d
assert 0 < d['measured_rto_s'] < 1800 and 0 <= d['achieved_rpo_s'] < 3600, d
assert d['report_html'] == '$TEST_DIR/drill.html', d
" || fail "drill result: $(tail -n 1 "$TEST_DIR/stdout")"
# The homes as the sandbox holds them: database files are restored by the databases steps,
# as new files (their times are those of the restore); everything else exactly.
home_manifest() {
  tree_manifest "$1" | grep -v -e '\.lock\.db' -e '\.trace\.db' -e 'wso2carbon\.pid' |
    sed -E "/^b'repository\/database/s/ mtime=[0-9]+//"
}
for home in "$km" "$am"; do
  [ "$(home_manifest "$home")" = "$(home_manifest "$TEST_DIR/sandbox$home")" ] ||
    { diff <(home_manifest "$home") <(home_manifest "$TEST_DIR/sandbox$home") | head -10 >&2; fail "the sandbox's $home differs from the live home"; }
done
grep -q "passed" "$TEST_DIR/drill.html" && grep -q "replace repository/ of $am" "$TEST_DIR/drill.html" || fail "HTML report"
grep -q '^obkeep_drill_measured_rto_seconds{site="primary"} [0-9.]*$' "$TEST_DIR/drill.prom" || fail "drill metrics"
pass "a drill from the primary restores both homes, the newer repository/ and $databases databases, verified and identical"

# 2. From the DR site: failed while it is empty, passed once copied.
# Each drill names its default sandbox in its report; other tests' drills may run in /var/tmp at
# the same time, so the check is on these very directories, not on a count of /var/tmp.
expect_exit 1 obkeep drill --config "$TEST_DIR/obkeep.toml" --site dr1 --json
[ "$(drill_field verdict)" = failed ] || fail "a drill from an empty site passed"
failed_sandbox=$(drill_field sandbox)
grep -q "no instance snapshot of" "$TEST_DIR/stdout" || fail "the empty site's failure is not named: $(cat "$TEST_DIR/stdout")"
obkeep copy --config "$TEST_DIR/obkeep.toml" -q
expect_exit 0 obkeep drill --config "$TEST_DIR/obkeep.toml" --site dr1 --json
[ "$(drill_field verdict)" = passed ] && [ "$(drill_field site)" = dr1 ] || fail "drill from dr1: $(cat "$TEST_DIR/stdout")"
passed_sandbox=$(drill_field sandbox)
for sandbox in "$failed_sandbox" "$passed_sandbox"; do
  case "$sandbox" in /var/tmp/obkeep-drill-*) ;; *) fail "the default sandbox is not in /var/tmp: $sandbox" ;; esac
  [ ! -e "$sandbox" ] || fail "a default sandbox was left in /var/tmp: $sandbox"
done
pass "a drill from the DR site fails while it holds nothing and passes once copied; the sandbox is removed"

# 3. A recovery point older than the RPO fails the drill (the RTO check is the same rule).
sed 's/^rpo = "1h"/rpo = "1s"/' "$TEST_DIR/obkeep.toml" >"$TEST_DIR/tight.toml"
sleep 2
expect_exit 1 obkeep drill --config "$TEST_DIR/tight.toml"
grep -q "over the RPO of" "$TEST_DIR/stdout" || fail "no RPO failure: $(cat "$TEST_DIR/stdout")"
pass "a recovery point older than the RPO fails the drill"

# 3b. An RTO the drill misses: the site's link made slow enough (limit_download) that the
# drill from it takes more than the RTO; the drill fails, and `status` and the daemon then
# name the rto line of the config that the last drill missed.
dr_kib=$(du -sk "$TEST_DIR/dr" | cut -f1)
{ sed 's/^rto = "30m"/rto = "1s"/' "$TEST_DIR/obkeep.toml"; echo "limit_download = $((dr_kib / 2 + 1))"; } >"$TEST_DIR/slow.toml"
rto_line=$(grep -n '^rto = "1s"' "$TEST_DIR/slow.toml" | cut -d: -f1)
expect_exit 1 obkeep drill --config "$TEST_DIR/slow.toml" --site dr1
grep -q "over the RTO of" "$TEST_DIR/stdout" || fail "no RTO failure: $(cat "$TEST_DIR/stdout")"
obkeep status --config "$TEST_DIR/slow.toml" >/dev/null 2>"$TEST_DIR/status.err" || true
grep -q "^obkeep: warning: $TEST_DIR/slow.toml:$rto_line: rto \"1s\" in \[policy.databases\]: the last drill from DR site dr1 (.*) took" \
  "$TEST_DIR/status.err" || fail "status does not name the missed rto: $(cat "$TEST_DIR/status.err")"
obkeep status --config "$TEST_DIR/obkeep.toml" >/dev/null 2>"$TEST_DIR/status.err" || true
! grep -q "rto" "$TEST_DIR/status.err" || fail "status warns about an rto the drill met: $(cat "$TEST_DIR/status.err")"
pass "a drill over the RTO fails, and status then names the config line of the rto it missed"

# 4. Damaged data at the site: the drill fails and names what it could not restore.
# The three largest packs: file data (a pack of trees can be smaller than the offset).
for pack in $(find "$TEST_DIR/dr/data" -type f -printf '%s %p\n' | sort -rn | head -n 3 | cut -d' ' -f2-); do
  python3 -c "
import sys
with open(sys.argv[1], 'r+b') as f:
    f.seek(200); b = f.read(1); f.seek(200); f.write(bytes([b[0] ^ 0xff]))" "$pack"
done
expect_exit 1 obkeep drill --config "$TEST_DIR/obkeep.toml" --site dr1 --json
[ "$(drill_field verdict)" = failed ] || fail "a drill over damaged data passed"
grep -Eq "damaged|not restored" "$TEST_DIR/stdout" || fail "damage not named: $(cat "$TEST_DIR/stdout")"
pass "damaged data fails the drill, named"

# 5. Bad input.
expect_exit 2 obkeep drill --config "$TEST_DIR/obkeep.toml" --sandbox "$TEST_DIR/sandbox"
expect_one_line_error
expect_stderr_matches "not empty"
expect_exit 2 obkeep drill --config "$TEST_DIR/obkeep.toml" --site nowhere
expect_one_line_error
pass "a non-empty sandbox or an unknown site: one-line errors"
