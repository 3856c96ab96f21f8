#!/usr/bin/env bash
# obkeep status on the generated OB 1.5 sample: every objective of the policy (per set,
# home or database, and place: primary or DR site) is judged against its RPO from the
# newest recovery point; exit 0 all met, 4 some at risk, 5 any violated; Prometheus metrics.
source "$(dirname "$0")/../lib.sh"

obkeep sample-deployment "$TEST_DIR/dep" >/dev/null
km=$TEST_DIR/dep/wso2-obkm-1.5.0
am=$TEST_DIR/dep/wso2-obam-1.5.0
deployment_config "$km" "$am"
dr=$TEST_DIR/dr primary_password=$OBKEEP_PASSWORD
printf 'dr-password\n' >"$TEST_DIR/dr.pw"
OBKEEP_FROM_PASSWORD=$primary_password OBKEEP_PASSWORD=dr-password obkeep -r "$dr" init --copy-params-from "$TEST_DIR/repo" >/dev/null
cp "$TEST_DIR/obkeep.toml" "$TEST_DIR/artifacts-only.toml"
cp "$TEST_DIR/obkeep.toml" "$TEST_DIR/no-policy.toml"
cat >>"$TEST_DIR/obkeep.toml" <<TOML
[policy.artifacts]
rpo = "4h"
frequency = "1h"
sites = ["dr1"]
[policy.databases]
rpo = "15m"
[[dr_site]]
name = "dr1"
url = "$dr"
password_file = "$TEST_DIR/dr.pw"
TOML
cat >>"$TEST_DIR/artifacts-only.toml" <<TOML
[policy.artifacts]
rpo = "4h"
frequency = "1h"
TOML
databases=$(obkeep discover --home "$km" --home "$am" --json | python3 -c "import json, sys; print(len(json.load(sys.stdin)['databases']))")

# verdicts FILE: "verdict set site" per objective, sorted, counted.
verdicts() {
  python3 -c "
import json, sys, collections
status = json.load(open('$1'))
counts = collections.Counter((o['verdict'], o['set'], o['site'] or 'primary') for o in status['objectives'])
print(' '.join('%s:%s:%s=%d' % (k + (v,)) for k, v in sorted(counts.items())))"
}

# 1. Nothing backed up yet: every objective violated, exit 5.
expect_exit 5 obkeep status --config "$TEST_DIR/obkeep.toml" --json
cp "$TEST_DIR/stdout" "$TEST_DIR/s1.json"
want="violated:artifacts:dr1=2 violated:artifacts:primary=2 violated:databases:primary=$databases"
[ "$(verdicts "$TEST_DIR/s1.json")" = "$want" ] || fail "before any backup: $(verdicts "$TEST_DIR/s1.json"), want $want"
python3 -c "
import json
for o in json.load(open('$TEST_DIR/s1.json'))['objectives']:
    assert o['newest_recovery_point'] is None and o['age_s'] is None, o
    assert o['rpo_s'] == (14400 if o['set'] == 'artifacts' else 900), o
    assert ('home' in o) != ('database' in o), o
" || fail "objective fields"
pass "without backups every objective is violated (exit 5), one per set, home or database, and place"

# 2. After backup --config the primary meets its objectives; the DR site has nothing yet.
obkeep backup --config "$TEST_DIR/obkeep.toml" >/dev/null
expect_exit 5 obkeep status --config "$TEST_DIR/obkeep.toml" --json
cp "$TEST_DIR/stdout" "$TEST_DIR/s2.json"
want="met:artifacts:primary=2 met:databases:primary=$databases violated:artifacts:dr1=2"
[ "$(verdicts "$TEST_DIR/s2.json")" = "$want" ] || fail "after the backup: $(verdicts "$TEST_DIR/s2.json"), want $want"

# 3. Copied to the DR site: all met, exit 0; the metrics say the same.
OBKEEP_FROM_PASSWORD=$primary_password OBKEEP_PASSWORD=dr-password obkeep -r "$dr" copy --from-repo "$TEST_DIR/repo" --tag set=artifacts -q
expect_exit 0 obkeep status --config "$TEST_DIR/obkeep.toml" --json --prometheus "$TEST_DIR/metrics.prom"
cp "$TEST_DIR/stdout" "$TEST_DIR/s3.json"
want="met:artifacts:dr1=2 met:artifacts:primary=2 met:databases:primary=$databases"
[ "$(verdicts "$TEST_DIR/s3.json")" = "$want" ] || fail "after the copy: $(verdicts "$TEST_DIR/s3.json"), want $want"
grep -q "^obkeep_objective_status{set=\"artifacts\",home=\"$am\",site=\"dr1\"} 0$" "$TEST_DIR/metrics.prom" || fail "metrics: $(cat "$TEST_DIR/metrics.prom")"
grep -q "^obkeep_rpo_seconds{set=\"databases\",database=\".*\",site=\"primary\"} 900$" "$TEST_DIR/metrics.prom" || fail "metrics rpo"
[ "$(grep -c '^obkeep_recovery_point_timestamp_seconds{' "$TEST_DIR/metrics.prom")" = $((4 + databases)) ] || fail "metrics timestamps"
pass "backed up and copied: every objective met (exit 0), and the Prometheus metrics agree"

# 4. Judged later: 3h30m on, the artifacts are at risk and the databases violated.
newest=$(python3 -c "
import json
print(max(o['newest_recovery_point'] for o in json.load(open('$TEST_DIR/s3.json'))['objectives'] if o['set'] == 'artifacts'))")
later() { python3 -c "
import datetime
t = datetime.datetime.fromisoformat('$newest'[:26].rstrip('Z'))
print((t + datetime.timedelta(seconds=$1)).strftime('%Y-%m-%dT%H:%M:%SZ'))"; }
expect_exit 5 obkeep status --config "$TEST_DIR/obkeep.toml" --json --now "$(later 12600)"
cp "$TEST_DIR/stdout" "$TEST_DIR/s4.json"
want="at_risk:artifacts:dr1=2 at_risk:artifacts:primary=2 violated:databases:primary=$databases"
[ "$(verdicts "$TEST_DIR/s4.json")" = "$want" ] || fail "3h30m later: $(verdicts "$TEST_DIR/s4.json"), want $want"
expect_exit 4 obkeep status --config "$TEST_DIR/artifacts-only.toml" --now "$(later 12600)"
expect_exit 0 obkeep status --config "$TEST_DIR/artifacts-only.toml" --now "$(later 10000)"
expect_exit 5 obkeep status --config "$TEST_DIR/artifacts-only.toml" --now "$(later 14500)"
pass "verdicts follow the age: met, at risk within one backup interval of the RPO (exit 4), violated past it (exit 5)"

# 5. A DR site that cannot be read: its objectives violated with the reason; the rest judged.
sed -i "s|^url = \"$dr\"|url = \"$TEST_DIR/no-such-site\"|" "$TEST_DIR/obkeep.toml"
expect_exit 5 obkeep status --config "$TEST_DIR/obkeep.toml" --json
python3 -c "
import json
for o in json.load(open('$TEST_DIR/stdout'))['objectives']:
    if o['site'] == 'dr1':
        assert o['verdict'] == 'violated' and 'cannot read DR site dr1' in o['reason'], o
    else:
        assert o['verdict'] == 'met', o
" || fail "unreadable DR site: $(cat "$TEST_DIR/stdout")"
pass "an unreadable DR site is reported per objective; the primary is still judged"

# 6. Bad input.
expect_exit 1 obkeep status --config "$TEST_DIR/no-policy.toml"
expect_one_line_error
expect_stderr_matches "no \[policy.<set>\] has an rpo"
expect_exit 1 obkeep status --config "$TEST_DIR/artifacts-only.toml" --now yesterday
expect_one_line_error
sed "s|^url = \"$TEST_DIR/repo\"|url = \"$TEST_DIR/no-such-repo\"|" "$TEST_DIR/artifacts-only.toml" >"$TEST_DIR/no-repo.toml"
expect_exit 10 obkeep status --config "$TEST_DIR/no-repo.toml"
expect_one_line_error
pass "no policy, a bad --now, an unreadable primary repository: one-line errors"
