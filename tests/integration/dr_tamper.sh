#!/usr/bin/env bash
# Tamper evidence for an append-only DR site behind obkeep serve (a real sshd): copy runs
# record in the primary what they sent; check --config --site and status compare the site
# with that record. Untouched, and after the admin's forget --keep-last 1 on the DR host
# (what the policy's keep_last = 1 allows), the site checks clean; a snapshot deleted on the
# DR host and another overwritten are each named on one line (missing, altered), and both
# commands exit non-zero; so is the WAL archive at the site cut short (its newest entry,
# which the record names, deleted). status shows the ssh:// site as append-only.
source "$(dirname "$0")/../lib.sh"

start_sshd
site=$TEST_DIR/site
bash "$OBKEEP_SOURCE_DIR/tests/servers/sshd.sh" add-key "$sshd" backup "$OBKEEP_BIN serve --stdio --append-only --repo $site"
export OBKEEP_SSH_CONFIG=$sshd/ssh_config_backup  # every ssh:// connection uses the append-only key

obkeep sample-deployment "$TEST_DIR/dep" >/dev/null
deployment_config "$TEST_DIR/dep/wso2-obkm-1.5.0" "$TEST_DIR/dep/wso2-obam-1.5.0"
config=$TEST_DIR/obkeep.toml
dr="ssh://$user@127.0.0.1:$port/"
OBKEEP_FROM_PASSWORD="$OBKEEP_PASSWORD" obkeep -r "$dr" init --copy-params-from "$TEST_DIR/repo" >/dev/null
cat >>"$config" <<TOML
[policy.artifacts]
rpo = "1d"
keep_last = 1
[policy.instance]
keep_last = 1
[policy.databases]
keep_last = 1
[[dr_site]]
name = "dr"
url = "$dr"
sets = ["databases", "artifacts", "instance"]
TOML

# integrity FILE FIELD: a field of the dr site's integrity object in a status --json output.
integrity() { python3 -c "import json; print([i for i in json.load(open('$1'))['integrity'] if i['site'] == 'dr'][0]['$2'])"; }
site_ids() { ls "$site/snapshots" | sort; }

# 1. An old repository (no record yet): nothing to compare, said plainly; not a failure.
obkeep backup --config "$config" -q
expect_exit 0 obkeep check --config "$config" --site dr
grep -q "against the primary's copy records: no record of copies to this site" "$TEST_DIR/stdout" ||
  fail "check of a site with no record: $(cat "$TEST_DIR/stdout")"
pass "a site the primary has no record for: check says there is nothing to compare"

# 2. Two copies, recorded in the primary under copies/ (sealed: the site ids do not show).
obkeep copy --config "$config" --site dr --json >"$TEST_DIR/copy1.json"
first=$(site_ids)
obkeep backup --config "$config" -q
obkeep copy --config "$config" --site dr -q
[ "$(ls "$TEST_DIR/repo/copies" | wc -l)" = 2 ] || fail "want 2 copy records, have: $(ls "$TEST_DIR/repo/copies")"
recorded=$(python3 -c "import json; print(json.loads(open('$TEST_DIR/copy1.json').read().splitlines()[-1])['snapshots_recorded'])")
[ "$recorded" = "$(echo "$first" | wc -l)" ] || fail "the first copy recorded $recorded snapshots, the site has $(echo "$first" | wc -l)"
! grep -rqa "$(echo "$first" | head -n 1)" "$TEST_DIR/repo/copies" || fail "a copy record shows a snapshot id in the clear"
total=$(site_ids | wc -l)
expect_exit 0 obkeep check --config "$config" --site dr
grep -q "against the primary's copy records: $total recorded as sent, $total present, 0 gone by keep rules, 0 missing, 0 altered" "$TEST_DIR/stdout" ||
  fail "check of the untouched site: $(cat "$TEST_DIR/stdout")"
expect_exit 0 obkeep status --config "$config" --json
[ "$(integrity "$TEST_DIR/stdout" intact)" = True ] && [ "$(integrity "$TEST_DIR/stdout" present)" = "$total" ] ||
  fail "status of the untouched site: $(cat "$TEST_DIR/stdout")"
python3 -c "
import json
p = {x['site']: x['protection'] for x in json.load(open('$TEST_DIR/stdout'))['protection']}
assert p['dr'].startswith('append-only'), p
assert p[None] == 'none', p" || fail "protection: $(cat "$TEST_DIR/stdout")"
pass "two copies recorded; the untouched site checks clean ($total snapshots); status: intact, the ssh:// site append-only"

# 3. The administrator forgets on the DR host itself, as keep_last = 1 allows: not missing.
obkeep -r "$site" forget --keep-last 1 --prune -q
kept=$(site_ids | wc -l)
[ "$kept" -lt "$total" ] || fail "the admin's forget removed nothing"
expect_exit 0 obkeep check --config "$config" --site dr
grep -q "$total recorded as sent, $kept present, $((total - kept)) gone by keep rules, 0 missing, 0 altered" "$TEST_DIR/stdout" ||
  fail "check after the admin's forget: $(cat "$TEST_DIR/stdout")"
expect_exit 0 obkeep status --config "$config"
pass "the admin's forget --keep-last 1 --prune on the DR host: $((total - kept)) snapshots gone by keep rules, none missing"

# 4. Someone on the DR host deletes one snapshot and overwrites another: each named, once.
obkeep backup --config "$config" -q
obkeep copy --config "$config" --site dr -q
newest=$(obkeep -r "$site" snapshots --json | python3 -c 'import json,sys; print("\n".join(s["id"] for s in json.load(sys.stdin)[-2:]))')
deleted=$(echo "$newest" | sed -n 1p)
altered=$(echo "$newest" | sed -n 2p)
rm -f "$site/snapshots/$deleted"
chmod u+w "$site/snapshots/$altered"
printf 'XXXXXXXX' | dd of="$site/snapshots/$altered" bs=1 seek=40 conv=notrunc status=none
expect_exit 1 obkeep check --config "$config" --site dr
grep "^missing: " "$TEST_DIR/stderr" >"$TEST_DIR/missing"
grep "^altered: " "$TEST_DIR/stderr" >"$TEST_DIR/altered"
[ "$(wc -l <"$TEST_DIR/missing")" = 1 ] && grep -q "^missing: snapshot ${deleted:0:8} (primary [0-9a-f]\{8\}) of 20..-..-.. ..:..:.. UTC, set=" "$TEST_DIR/missing" ||
  fail "want one missing line naming ${deleted:0:8}: $(cat "$TEST_DIR/stderr")"
[ "$(wc -l <"$TEST_DIR/altered")" = 1 ] && grep -q "^altered: snapshot ${altered:0:8} (primary [0-9a-f]\{8\}) of .* UTC, set=.*: its object does not match its name (damaged)$" "$TEST_DIR/altered" ||
  fail "want one altered line naming ${altered:0:8}: $(cat "$TEST_DIR/stderr")"
[ "$(wc -l <"$TEST_DIR/stderr")" = 3 ] || fail "check --site said more than the two findings and its summary: $(cat "$TEST_DIR/stderr")"
expect_stderr_matches "^obkeep: DR site dr does not hold what the primary sent: 1 missing, 1 altered \(listed above\)$"
pass "check --site: the deleted snapshot missing, the overwritten one altered, one line each; exit 1"

expect_exit 5 obkeep status --config "$config" --json
[ "$(integrity "$TEST_DIR/stdout" missing)" = 1 ] && [ "$(integrity "$TEST_DIR/stdout" altered)" = 1 ] ||
  fail "status --json integrity: $(cat "$TEST_DIR/stdout")"
python3 -c "
import json
i = [i for i in json.load(open('$TEST_DIR/stdout'))['integrity'] if i['site'] == 'dr'][0]
assert [s['snapshot'] for s in i['missing_snapshots']] == ['$deleted'], i
assert [s['snapshot'] for s in i['altered_snapshots']] == ['$altered'], i
assert not i['intact'], i" || fail "status --json names: $(cat "$TEST_DIR/stdout")"
expect_exit 5 obkeep status --config "$config"
[ "$(grep -c "missing: snapshot ${deleted:0:8}" "$TEST_DIR/stdout")" = 1 ] && [ "$(grep -c "altered: snapshot ${altered:0:8}" "$TEST_DIR/stdout")" = 1 ] ||
  fail "status text: $(cat "$TEST_DIR/stdout")"
pass "status: exit 5, the missing and the altered snapshot named in text and JSON"

# 5. The archives go to the site with the databases, and the copy record names each one's
# newest entry: deleting the newest WAL file on the DR host (an archive cut short, which no
# gap check can see) is named on one line by check and by status.
for segment in 000000010000000000000001 000000010000000000000002 000000010000000000000003; do
  head -c 100000 /dev/urandom >"$TEST_DIR/$segment"
  obkeep -r "$TEST_DIR/repo" wal-push "$TEST_DIR/$segment" || fail "wal-push $segment"
done
rm -f "$site/snapshots/$altered"  # a copy stops at a damaged snapshot: the DR admin removes it
obkeep copy --config "$config" --site dr -q  # sends both again (new ids at the site): the repair
expect_exit 0 obkeep check --config "$config" --site dr
grep -q "; 1 archives, 0 cut short$" "$TEST_DIR/stdout" || fail "check does not count the WAL archive: $(cat "$TEST_DIR/stdout")"
pass "the deleted and the altered snapshot copied again: the site checks clean"
findings=0
newest=$(obkeep -r "$site" archive-ls --kind wal --json |
  python3 -c "import json,sys; print([e['name'] for e in json.load(sys.stdin) if e['file'] == '000000010000000000000003'][0])")
rm -f "$site/archive/$newest"
expect_exit 1 obkeep check --config "$config" --site dr
[ "$(grep -c "^missing: WAL file 000000010000000000000003 (stanza main), archived 20..-..-.. ..:..:.. UTC: the newest of its archive copied .*, no longer at the site (the archive was cut short)$" "$TEST_DIR/stderr")" = 1 ] ||
  fail "want one line naming the cut archive: $(cat "$TEST_DIR/stderr")"
expect_stderr_matches "$findings missing, 0 altered, 1 archives cut short \(listed above\)$"
[ "$(wc -l <"$TEST_DIR/stderr")" = $((findings + 2)) ] || fail "check --site said more than the findings and its summary: $(cat "$TEST_DIR/stderr")"
expect_exit 5 obkeep status --config "$config" --json
python3 -c "
import json
i = [i for i in json.load(open('$TEST_DIR/stdout'))['integrity'] if i['site'] == 'dr'][0]
assert [e['file'] for e in i['missing_archive_entries']] == ['000000010000000000000003'], i
assert i['archive_ends'] == 1 and not i['intact'], i" || fail "status --json: $(cat "$TEST_DIR/stdout")"
pass "the WAL archive at the site: its newest entry recorded; deleted on the DR host, named by check and status"
