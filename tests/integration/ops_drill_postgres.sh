#!/usr/bin/env bash
# obkeep drill with a real PostgreSQL 15: a home whose datasource is a PostgreSQL database
# is backed up; the drill restores the database into a scratch server (--scratch-postgresql)
# with every row, and without one reads and verifies the whole dump instead.
source "$(dirname "$0")/../lib.sh"
[ -x /usr/lib/postgresql/15/bin/postgres ] || fail "PostgreSQL 15 is not installed (scripts/setup.sh installs it)"
cd "$TEST_DIR"  # drills write their HTML report into the current directory

pg=$TEST_DIR/pg
bash "$OBKEEP_SOURCE_DIR/tests/servers/postgres.sh" start "$pg"
add_cleanup "bash '$OBKEEP_SOURCE_DIR/tests/servers/postgres.sh' stop '$pg'"
port=$(cat "$pg/port")
export PGPASSWORD=$(cat "$pg/password")
psql_() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres "$@"; }
data=$OBKEEP_SOURCE_DIR/tests/db/ob_data.py
psql_ -c "CREATE DATABASE openbank_openbankingdb"
python3 "$data" schema postgres | psql_ -d openbank_openbankingdb
python3 "$data" data postgres 2000 1 | psql_ -d openbank_openbankingdb

home=$TEST_DIR/wso2-obam-1.5.0
write_home "$home" "$(datasource WSO2_OPEN_BANKING_DB "jdbc:postgresql://127.0.0.1:$port/openbank_openbankingdb" postgres "$PGPASSWORD")"
deployment_config "$home"
cat >>"$TEST_DIR/obkeep.toml" <<TOML
[policy.databases]
rpo = "1h"
rto = "30m"
TOML
fingerprint() { # DB: md5 of every table's rows in a fixed order
  for table in $(python3 "$data" tables); do
    printf '%s ' "$table"
    psql_ -d "$1" -Atc "COPY (SELECT * FROM $table t ORDER BY t::text) TO STDOUT" | md5sum
  done
}
obkeep backup --config "$TEST_DIR/obkeep.toml" -q

# 1. With a scratch server: the database is restored there, row for row.
expect_exit 0 obkeep drill --config "$TEST_DIR/obkeep.toml" --scratch-postgresql "jdbc:postgresql://127.0.0.1:$port/" --json
python3 -c "
import json
d = json.loads(open('$TEST_DIR/stdout').read().splitlines()[-1])
assert d['verdict'] == 'passed', d
steps = [s for s in d['steps'] if s['name'].startswith('restore database WSO2_OPEN_BANKING_DB')]
assert len(steps) == 1 and steps[0]['ok'] and 'obkeep_drill_WSO2_OPEN_BANKING_DB' in steps[0]['detail'], d['steps']
" || fail "drill with a scratch server: $(tail -n 1 "$TEST_DIR/stdout")"
[ "$(fingerprint openbank_openbankingdb)" = "$(fingerprint obkeep_drill_WSO2_OPEN_BANKING_DB)" ] ||
  fail "the drill's scratch database differs from the source"
# A second drill replaces the scratch database of the first.
expect_exit 0 obkeep drill --config "$TEST_DIR/obkeep.toml" --scratch-postgresql "jdbc:postgresql://127.0.0.1:$port/"
pass "a drill restores the PostgreSQL database into the scratch server with every row, again and again"

# 2. Without a scratch server: the dump is read and verified, and the drill says so.
expect_exit 0 obkeep drill --config "$TEST_DIR/obkeep.toml" --json
python3 -c "
import json
d = json.loads(open('$TEST_DIR/stdout').read().splitlines()[-1])
steps = [s for s in d['steps'] if 'WSO2_OPEN_BANKING_DB' in s['name']]
assert len(steps) == 1 and steps[0]['name'].startswith('read database dump') and steps[0]['ok'], d['steps']
assert 'read and verified' in steps[0]['detail'] and '--scratch-postgresql' in steps[0]['detail'], steps
" || fail "drill without a scratch server: $(tail -n 1 "$TEST_DIR/stdout")"
pass "without a scratch server the drill reads and verifies every byte of the dump"

# 3. With a base backup newer than the dump: the drill recovers the cluster physically (the
# base backup extracted, a throwaway server started on it, every table counted) and says so;
# a newer logical dump again takes the logical path.
obkeep base-backup --config "$TEST_DIR/obkeep.toml" --database WSO2_OPEN_BANKING_DB -q 2>/dev/null
rows=0
for table in $(python3 "$data" tables); do
  rows=$((rows + $(psql_ -d openbank_openbankingdb -Atc "SELECT count(*) FROM $table")))
done
expect_exit 0 obkeep drill --config "$TEST_DIR/obkeep.toml" --sandbox "$TEST_DIR/sandbox" --keep --json
python3 - "$TEST_DIR/stdout" "$rows" "$(python3 "$data" tables | wc -l)" <<'PY' || fail "physical drill: $(tail -n 1 "$TEST_DIR/stdout")"
import json, sys
d = json.loads(open(sys.argv[1]).read().splitlines()[-1])
assert d['verdict'] == 'passed', d
steps = [s for s in d['steps'] if 'WSO2_OPEN_BANKING_DB' in s['name']]
assert len(steps) == 1 and steps[0]['name'].endswith('from its base backup') and steps[0]['ok'], steps
detail = steps[0]['detail']
assert detail.startswith('physical: base backup') and 'PostgreSQL 15' in detail, detail
assert detail.endswith('%s tables, %s rows' % (sys.argv[3], sys.argv[2])), (detail, sys.argv[2:])
PY
[ -f "$TEST_DIR/sandbox/.postgresql/WSO2_OPEN_BANKING_DB/PG_VERSION" ] || fail "no data directory in the kept sandbox"
[ ! -f "$TEST_DIR/sandbox/.postgresql/WSO2_OPEN_BANKING_DB/postmaster.pid" ] || fail "the drill's server was left running"
ls /tmp | grep -q '^obkeep-pg-' && fail "the scratch server's socket directory was left in /tmp"
rm -rf "$TEST_DIR/sandbox"
obkeep backup --config "$TEST_DIR/obkeep.toml" --set databases -q
expect_exit 0 obkeep drill --config "$TEST_DIR/obkeep.toml" --scratch-postgresql "jdbc:postgresql://127.0.0.1:$port/" --json
python3 -c "
import json
d = json.loads(open('$TEST_DIR/stdout').read().splitlines()[-1])
steps = [s for s in d['steps'] if 'WSO2_OPEN_BANKING_DB' in s['name']]
assert len(steps) == 1 and steps[0]['name'].startswith('restore database') and steps[0]['detail'].startswith('logical:'), steps
" || fail "a newer dump did not take the logical path: $(tail -n 1 "$TEST_DIR/stdout")"
pass "a drill recovers PostgreSQL from a newer base backup by starting the restored cluster, every row counted; a newer dump is restored logically"

# 4. A damaged dump, without a scratch server: the drill reads every blob of the dump (in
# batches read side by side) and fails, naming the damage.
# Every pack, in its middle: whichever packs hold the dump.
find "$TEST_DIR/repo/data" -type f -print0 | xargs -0 python3 -c "
import os, sys
for path in sys.argv[1:]:
    with open(path, 'r+b') as f:
        middle = os.path.getsize(path) // 2
        f.seek(middle); b = f.read(1); f.seek(middle); f.write(bytes([b[0] ^ 0xff]))"
expect_exit 1 obkeep drill --config "$TEST_DIR/obkeep.toml" --json
python3 -c "
import json
d = json.loads(open('$TEST_DIR/stdout').read().splitlines()[-1])
assert d['verdict'] == 'failed', d
steps = [s for s in d['steps'] if 'WSO2_OPEN_BANKING_DB' in s['name']]
assert len(steps) == 1 and steps[0]['name'].startswith('read database dump') and not steps[0]['ok'], steps
" || fail "a drill over a damaged dump: $(tail -n 1 "$TEST_DIR/stdout")"
grep -Eq "damaged|authentic" "$TEST_DIR/stdout" || fail "the dump's damage is not named: $(tail -n 1 "$TEST_DIR/stdout")"
pass "a drill over a damaged dump without a scratch server fails, naming the damage"
