#!/usr/bin/env bash
# MariaDB physical backups (mariadb-backup): taken under an invariant-keeping load, restored
# into a new data directory that a second mariadbd starts on, consistent; the same quiet
# database restored by the physical and the logical path gives identical rows; a non-empty
# target and a physical snapshot given to --to are refused with one line.
source "$(dirname "$0")/../lib.sh"
command -v mariadb-backup >/dev/null || fail "mariadb-backup is not installed (scripts/setup.sh installs it)"
start_mariadb
data=$OBKEEP_SOURCE_DIR/tests/db/ob_data.py
sql -e "CREATE DATABASE openbank_openbankingdb"
python3 "$data" schema mariadb | sql openbank_openbankingdb
python3 "$data" data mariadb 2000 1 | sql openbank_openbankingdb
home=$TEST_DIR/wso2-obam-1.5.0
write_home "$home" "$(datasource WSO2_OPEN_BANKING_DB "jdbc:mysql://127.0.0.1:$port/openbank_openbankingdb" obkeep "$password")"
deployment_config "$home"
config=$TEST_DIR/obkeep.toml
chmod 755 "$TEST_DIR"

# 1. Under load: the restored server holds one instant — every invariant holds.
setsid bash -c "python3 '$data' load mariadb 5 | mariadb --no-defaults -h127.0.0.1 -P$port -uobkeep -p$password openbank_openbankingdb" >/dev/null 2>&1 &
load=$!
add_cleanup "kill -- -$load 2>/dev/null"
count() { sql -N openbank_openbankingdb -e "SELECT COUNT(*) FROM UK_ACCOUNT_INITIATION"; }
before=$(count)
wait_for_growth "$before" count >/dev/null
run_timed physical 120 "$OBKEEP_BIN" base-backup --config "$config" --database WSO2_OPEN_BANKING_DB
[ "$RUN_EXIT" = 0 ] || fail "base-backup of MariaDB failed: $(cat "$TEST_DIR/stderr")"
wait_for_growth "$(count)" count >/dev/null
kill -- -$load; wait $load 2>/dev/null || true
after=$(count)
run_timed restore_physical 120 "$OBKEEP_BIN" restore-db latest --config "$config" --database WSO2_OPEN_BANKING_DB \
  --to-datadir "$TEST_DIR/physical1"
[ "$RUN_EXIT" = 0 ] || fail "restore --to-datadir failed: $(cat "$TEST_DIR/stderr")"
grep -q "prepared: start mariadbd --datadir=" "$TEST_DIR/restore_physical.stdout" || fail "$(cat "$TEST_DIR/restore_physical.stdout")"
start_mariadb_on "$TEST_DIR/physical1"
restored=$(rsql -N openbank_openbankingdb -e "SELECT COUNT(*) FROM UK_ACCOUNT_INITIATION")
[ "$before" -lt "$restored" ] && [ "$restored" -lt "$after" ] ||
  fail "the load did not run across the physical backup: before $before, restored $restored, after $after"
expect_invariants rsql openbank_openbankingdb
obkeep -r "$TEST_DIR/repo" snapshots --tag engine=mariadb-physical --json |
  python3 -c "import json,sys; b=json.load(sys.stdin)[-1]['summary']['binlog']; assert b['file'].startswith('binlog.') and b['position'] > 4, b" ||
  fail "the physical backup records no binlog position"
pass "physical backup under load ($before < $restored < $after consents) starts as a server with every invariant intact"

# 2. Quiet: the physical and the logical path give identical rows.
obkeep backup --config "$config" --set databases >/dev/null
obkeep base-backup --config "$config" --database WSO2_OPEN_BANKING_DB >/dev/null  # the newest: --to-datadir takes it
obkeep restore-db latest --config "$config" --database WSO2_OPEN_BANKING_DB --to-datadir "$TEST_DIR/physical2" >/dev/null
obkeep restore-db latest --config "$config" --database WSO2_OPEN_BANKING_DB \
  --to "jdbc:mysql://127.0.0.1:$port/restored_logical" >/dev/null
mariadb_fingerprint restored_logical >"$TEST_DIR/logical"
mariadb_fingerprint openbank_openbankingdb >"$TEST_DIR/source"
diff "$TEST_DIR/source" "$TEST_DIR/logical" >/dev/null || fail "the logical restore differs from the source"
start_mariadb_on "$TEST_DIR/physical2"
port_source=$port
port=$rport
mariadb_fingerprint openbank_openbankingdb >"$TEST_DIR/physical"
port=$port_source
diff "$TEST_DIR/logical" "$TEST_DIR/physical" || fail "the physical and the logical restore differ"
pass "the quiet database restored by the physical and by the logical path: identical rows"

# 3. Refusals, one line each.
expect_exit 1 obkeep restore-db latest --config "$config" --database WSO2_OPEN_BANKING_DB --to-datadir "$TEST_DIR/physical2"
expect_stderr_matches "data directory .*physical2 is not empty; restore into a new one"
expect_one_line_error
physical_id=$(obkeep -r "$TEST_DIR/repo" snapshots --tag engine=mariadb-physical --json | python3 -c "import json,sys; print(json.load(sys.stdin)[-1]['id'])")
expect_exit 1 obkeep restore-db "$physical_id" --config "$config" --database WSO2_OPEN_BANKING_DB \
  --to "jdbc:mysql://127.0.0.1:$port/restored_wrong"
expect_stderr_matches "is a physical backup: restore it with --to-datadir"
expect_one_line_error
pass "a non-empty data directory and a physical snapshot given to --to are refused with one line"

# 4. A drill takes the physical path when the mariadb-backup copy is the newest recovery
# point: prepared in the sandbox, started, every row counted, nothing left running.
obkeep backup --config "$config" >/dev/null  # every set: the drill restores the home too
obkeep base-backup --config "$config" --database WSO2_OPEN_BANKING_DB >/dev/null
rows=0
for table in $(sql -N -e "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'openbank_openbankingdb' AND TABLE_TYPE = 'BASE TABLE'"); do
  rows=$((rows + $(sql -N openbank_openbankingdb -e "SELECT COUNT(*) FROM \`$table\`")))
done
cd "$TEST_DIR"  # the drill writes its report here
obkeep drill --config "$config" --sandbox "$TEST_DIR/sandbox" --keep --json >"$TEST_DIR/stdout" || fail "drill: $(tail -n 1 "$TEST_DIR/stdout")"
python3 - "$TEST_DIR/stdout" "$rows" <<'PY' || fail "physical drill: $(tail -n 1 "$TEST_DIR/stdout")"
import json, sys
d = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
steps = [s for s in d["steps"] if "WSO2_OPEN_BANKING_DB" in s["name"]]
assert d["verdict"] == "passed" and len(steps) == 1 and steps[0]["ok"], d["steps"]
detail = steps[0]["detail"]
assert detail.startswith("physical: mariadb-backup ") and detail.endswith(" %s rows" % sys.argv[2]), detail
PY
[ ! -f "$TEST_DIR/sandbox/.mariadb/WSO2_OPEN_BANKING_DB/pid" ] || fail "the drill's server was left running"
ls /tmp | grep -q "^obkeep-mariadb-" && fail "the drill's socket directory was left in /tmp"
pass "a drill recovers the newest mariadb-backup copy physically: started, all $rows rows counted, nothing left running"

# 5. restore-db chooses the path by the newest recovery point. The physical copy is newest:
# --to (a logical load into a running server) says a newer physical backup exists.
obkeep restore-db latest --config "$config" --database WSO2_OPEN_BANKING_DB \
  --to "jdbc:mysql://127.0.0.1:$port/restored_hint" >"$TEST_DIR/stdout" || fail "restore-db --to failed"
grep -q "^path: logical (physical backup .* is newer: restore-db --to-datadir" "$TEST_DIR/stdout" ||
  fail "restore-db --to does not name the newer physical backup: $(cat "$TEST_DIR/stdout")"
# A logical backup newer than it: --to-datadir builds a new server's files from the dump.
sql openbank_openbankingdb -e "INSERT INTO AUDIT_LOG VALUES ('after the physical backup', NOW(), 1)"
obkeep backup --config "$config" --set databases >/dev/null
run_timed logical_datadir 120 "$OBKEEP_BIN" restore-db latest --config "$config" --database WSO2_OPEN_BANKING_DB \
  --to-datadir "$TEST_DIR/logical3"
[ "$RUN_EXIT" = 0 ] || fail "restore-db --to-datadir from the logical backup failed: $(cat "$TEST_DIR/stderr")"
grep -q "^path: logical: snapshot .*, newer than any physical backup" "$TEST_DIR/logical_datadir.stdout" ||
  fail "restore-db --to-datadir does not say it took the logical path: $(cat "$TEST_DIR/logical_datadir.stdout")"
start_mariadb_on "$TEST_DIR/logical3"
# A logical backup holds no users: the new server has its own root only.
mariadb --no-defaults -S "$TEST_DIR/logical3/sock" -uroot \
  -e "CREATE USER obkeep@'%' IDENTIFIED BY '$password'; GRANT ALL ON *.* TO obkeep@'%'" ||
  fail "the new data directory's root cannot log in"
mariadb_fingerprint openbank_openbankingdb >"$TEST_DIR/source3"
port_source=$port
port=$rport
mariadb_fingerprint openbank_openbankingdb >"$TEST_DIR/logical3.rows"
port=$port_source
diff "$TEST_DIR/source3" "$TEST_DIR/logical3.rows" >/dev/null || fail "the data directory built from the logical backup differs from the source"
[ "$(rsql -N openbank_openbankingdb -e "SELECT COUNT(*) FROM AUDIT_LOG WHERE MESSAGE = 'after the physical backup'")" = 1 ] ||
  fail "the row written after the physical backup is missing"
pass "restore-db --to-datadir takes the logical path when the dump is newer (says so, identical rows); --to names a newer physical backup"

# 6. A restore into a new data directory that fails half way (every data pack of a copy of
# the repository damaged: the newest backup is the dump, so the new server's system tables
# are written before the first damaged blob is read) says what failed in one line and
# leaves the directory empty, so the next attempt, from the intact repository, uses it.
cp -a "$TEST_DIR/repo" "$TEST_DIR/damaged"
for pack in $(find "$TEST_DIR/damaged/data" -type f); do damage_pack "$pack"; done
expect_exit 1 obkeep -r "$TEST_DIR/damaged" restore-db latest --config "$config" --database WSO2_OPEN_BANKING_DB \
  --to-datadir "$TEST_DIR/retry"
expect_stderr_matches "damaged|integrity|authenticat"
expect_one_line_error
[ -d "$TEST_DIR/retry" ] && [ -z "$(ls -A "$TEST_DIR/retry")" ] || fail "the failed restore left files in the data directory: $(ls -A "$TEST_DIR/retry" | head -3)"
ls /tmp | grep -q "^obkeep-mariadb-" && fail "the failed restore left its private server's directory in /tmp"
obkeep restore-db latest --config "$config" --database WSO2_OPEN_BANKING_DB --to-datadir "$TEST_DIR/retry" >/dev/null ||
  fail "the retry into the emptied data directory failed"
pass "a restore into a data directory that fails half way says so in one line and leaves it empty; the retry works"
