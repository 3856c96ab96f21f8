#!/usr/bin/env bash
# MariaDB 10.11, real server: a quiet backup restores identical into a new database; a
# backup under concurrent load restores with every invariant intact; a wrong password fails
# clearly while the other database still backs up (exit 3); a small change deduplicates.
source "$(dirname "$0")/../lib.sh"
start_mariadb
data=$OBKEEP_SOURCE_DIR/tests/db/ob_data.py
sql -e "CREATE DATABASE openbank_openbankingdb; CREATE DATABASE openbank_apimgtdb"
python3 "$data" schema mariadb | sql openbank_openbankingdb
python3 "$data" data mariadb 3000 1 | sql openbank_openbankingdb
python3 "$data" schema mariadb | sql openbank_apimgtdb
python3 "$data" data mariadb 300 2 | sql openbank_apimgtdb

home=$TEST_DIR/wso2-obam-1.5.0
write_home "$home" "$(datasource WSO2_OPEN_BANKING_DB "jdbc:mysql://127.0.0.1:$port/openbank_openbankingdb?autoReconnect=true&amp;useSSL=false" obkeep "$password")
$(datasource WSO2AM_DB "jdbc:mariadb://127.0.0.1:$port/openbank_apimgtdb" obkeep "$password")
$(datasource WSO2UM_DB "jdbc:mysql://127.0.0.1:$port/openbank_userdb" obkeep wrong-password)"
deployment_config "$home"

# 1. Quiet backup; a wrong password does not stop the others.
expect_exit 3 obkeep backup --config "$TEST_DIR/obkeep.toml" --set databases
expect_stderr_matches "database WSO2UM_DB: cannot connect to mysql://127.0.0.1:$port/openbank_userdb as obkeep: .*Access denied"
grep -q "wrong-password\|$password" "$TEST_DIR/stderr" "$TEST_DIR/stdout" && fail "a password was printed"
grep -q "WSO2_OPEN_BANKING_DB .*snapshot" "$TEST_DIR/stdout" || fail "WSO2_OPEN_BANKING_DB was not backed up: $(cat "$TEST_DIR/stdout")"
grep -q "WSO2AM_DB .*snapshot" "$TEST_DIR/stdout" || fail "WSO2AM_DB was not backed up"
pass "wrong password reported; the other databases backed up (exit 3)"

obkeep restore-db latest --config "$TEST_DIR/obkeep.toml" --database WSO2_OPEN_BANKING_DB \
  --to "jdbc:mysql://127.0.0.1:$port/restored_quiet" >/dev/null
mariadb_fingerprint openbank_openbankingdb >"$TEST_DIR/want"
mariadb_fingerprint restored_quiet >"$TEST_DIR/got"
diff "$TEST_DIR/want" "$TEST_DIR/got" || fail "restored database differs"
[ "$(sql -N -e "SELECT COUNT(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = 'restored_quiet' AND INDEX_NAME = 'IDX_INIT_STATUS'")" = 1 ] || fail "index not restored"
[ "$(sql -N -e "SELECT COUNT(*) FROM information_schema.TABLE_CONSTRAINTS WHERE TABLE_SCHEMA = 'restored_quiet' AND CONSTRAINT_TYPE = 'FOREIGN KEY'")" = 2 ] || fail "foreign keys not restored"
[ "$(sql -N -e "SELECT AUTO_INCREMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'restored_quiet' AND TABLE_NAME = 'UK_ACCOUNT_CONSENT_REV_HISTORY'")" = \
  "$(sql -N -e "SELECT AUTO_INCREMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'openbank_openbankingdb' AND TABLE_NAME = 'UK_ACCOUNT_CONSENT_REV_HISTORY'")" ] || fail "auto-increment not restored"
pass "quiet backup restores into a new database with identical rows, indexes, foreign keys and auto-increment"

# 2. Under concurrent load.
setsid bash -c "python3 '$data' load mariadb 7 | mariadb --no-defaults --default-character-set=utf8mb4 -h127.0.0.1 -P$port -uobkeep -p$password openbank_openbankingdb" >/dev/null 2>&1 &
load=$!
add_cleanup "kill -- -$load 2>/dev/null"
count_consents() { sql -N openbank_openbankingdb -e "SELECT COUNT(*) FROM UK_ACCOUNT_INITIATION"; }
before=$(count_consents)
wait_for_growth "$before" count_consents >/dev/null  # the load is writing: the backup starts after $before
obkeep backup --config "$TEST_DIR/obkeep.toml" --set databases >/dev/null 2>&1 || true
wait_for_growth "$(count_consents)" count_consents >/dev/null  # and writes on after it
kill -- -$load; wait $load 2>/dev/null || true
after=$(sql -N openbank_openbankingdb -e "SELECT COUNT(*) FROM UK_ACCOUNT_INITIATION")
obkeep restore-db latest --config "$TEST_DIR/obkeep.toml" --database WSO2_OPEN_BANKING_DB \
  --to "jdbc:mysql://127.0.0.1:$port/restored_loaded" >/dev/null
restored=$(sql -N restored_loaded -e "SELECT COUNT(*) FROM UK_ACCOUNT_INITIATION")
[ "$before" -lt "$restored" ] && [ "$restored" -lt "$after" ] ||
  fail "the load did not run across the backup: before $before, restored $restored, after $after"
expect_invariants sql restored_loaded
pass "backup under load ($before < $restored < $after consents) restores with every invariant intact"

# 3. Restoring over a database that has tables needs --drop-existing.
expect_exit 1 obkeep restore-db latest --config "$TEST_DIR/obkeep.toml" --database WSO2_OPEN_BANKING_DB \
  --to "jdbc:mysql://127.0.0.1:$port/restored_quiet"
expect_stderr_matches "restored_quiet.*already has tables.*--drop-existing"
expect_one_line_error
pass "restore refuses to overwrite a database that has tables"

# 4. A small change deduplicates: updates of 1% of the consents, contiguous in the clustered
# index, and 1% new audit rows (no primary key: insertion order) cost a few chunks. New
# random-UUID keys land all over a clustered index and would touch most chunks of a table.
obkeep backup --config "$TEST_DIR/obkeep.toml" --set databases >/dev/null 2>&1 || true
sql openbank_openbankingdb -e "UPDATE UK_ACCOUNT_INITIATION SET STATUS = 'Revoked' ORDER BY ID LIMIT 30"
python3 "$data" audit mariadb 30 | sql openbank_openbankingdb
obkeep backup --config "$TEST_DIR/obkeep.toml" --set databases >/dev/null 2>&1 || true
obkeep -r "$TEST_DIR/repo" snapshots --tag set=databases --json | python3 "$OBKEEP_SOURCE_DIR/tests/db/dedup_ratio.py" openbank_openbankingdb 0.25
pass "a backup after a small change deduplicates against the previous one"
