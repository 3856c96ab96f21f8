#!/usr/bin/env bash
# MariaDB 10.11, real server: large tables cut into primary-key ranges (integer keys, UUID
# text keys cut at hex prefixes, other text and binary keys walked, composite keys; the
# threshold lowered with OBKEEP_MARIADB_CHUNK_ROWS) are dumped by both workers while
# transfers and consent writes go on, and restore with every invariant intact; a quiet
# backup restores every table checksum-identical; a table without a primary key is dumped
# whole; a dump in the one-stream-per-table layout still restores; a worker connection
# killed in the middle of a range, or a loader killed mid-LOAD, fails with one line.
source "$(dirname "$0")/../lib.sh"
start_mariadb
data=$OBKEEP_SOURCE_DIR/tests/db/ob_data.py
db=openbank_openbankingdb
sql -e "CREATE DATABASE $db"
python3 "$data" schema mariadb | sql $db
python3 "$data" data mariadb 3000 1 | sql $db
# Accounts whose balances transfers move: the total and every account's balance against
# the transfer log hold in a consistent copy, wherever the ranges of the two tables fall.
sql $db -e "
  CREATE TABLE ACCOUNT_BALANCE (ID BIGINT PRIMARY KEY, BALANCE BIGINT NOT NULL, OWNER VARCHAR(64), KEY (OWNER));
  INSERT INTO ACCOUNT_BALANCE SELECT seq, 1000, CONCAT('owner ', seq % 97) FROM seq_1_to_5000;
  CREATE TABLE TRANSFER_LOG (ID BIGINT AUTO_INCREMENT PRIMARY KEY, FROM_ID BIGINT NOT NULL, TO_ID BIGINT NOT NULL,
    AMOUNT BIGINT NOT NULL, KEY (FROM_ID), KEY (TO_ID));
  INSERT INTO TRANSFER_LOG (FROM_ID, TO_ID, AMOUNT) SELECT seq, seq * 7 % 5000 + 1, 0 FROM seq_1_to_2000;
  CREATE TABLE DEVICE_KEY (KID VARBINARY(16) PRIMARY KEY, LABEL VARCHAR(40));
  INSERT INTO DEVICE_KEY SELECT UNHEX(MD5(seq)), CONCAT('device\t', seq) FROM seq_1_to_2000;
  CREATE TABLE CLIENT_APP (NAME VARCHAR(64) PRIMARY KEY, SECRET VARCHAR(64));
  INSERT INTO CLIENT_APP SELECT CONCAT('Client-', seq), MD5(seq) FROM seq_1_to_2000;
  ANALYZE TABLE ACCOUNT_BALANCE, TRANSFER_LOG, DEVICE_KEY, CLIENT_APP, UK_ACCOUNT_INITIATION, IDN_OAUTH2_ACCESS_TOKEN,
    IDN_OAUTH2_ACCESS_TOKEN_SCOPE, UK_ACCOUNT_CONSENT_REV_HISTORY, AUDIT_LOG;" >/dev/null
tables=$(sql -N -e "SELECT GROUP_CONCAT(TABLE_NAME ORDER BY TABLE_NAME) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '$db'")
checksums() { # DB: every table's CHECKSUM TABLE, without the database name
  sql -N "$1" -e "CHECKSUM TABLE $tables" | sed "s/^$1\.//"
}
transfer_invariants=(
  "SELECT SUM(BALANCE) - 5000000 FROM ACCOUNT_BALANCE"
  "SELECT COUNT(*) FROM ACCOUNT_BALANCE a WHERE a.BALANCE <> 1000
     - COALESCE((SELECT SUM(AMOUNT) FROM TRANSFER_LOG WHERE FROM_ID = a.ID), 0)
     + COALESCE((SELECT SUM(AMOUNT) FROM TRANSFER_LOG WHERE TO_ID = a.ID), 0)"
)

home=$TEST_DIR/wso2-obam-1.5.0
write_home "$home" "$(datasource WSO2_OPEN_BANKING_DB "jdbc:mysql://127.0.0.1:$port/$db" obkeep "$password")"
deployment_config "$home"
config=$TEST_DIR/obkeep.toml
export OBKEEP_MARIADB_CHUNK_ROWS=400

# 1. Under load: consents and tokens (ob_data.py's invariants) and transfers between accounts.
setsid bash -c "python3 '$data' load mariadb 7 | mariadb --no-defaults --default-character-set=utf8mb4 -h127.0.0.1 -P$port -uobkeep -p$password $db" >/dev/null 2>&1 &
consent_load=$!
add_cleanup "kill -- -$consent_load 2>/dev/null"
setsid bash -c "python3 -c '
import random, sys, time
r = random.Random(5)
while True:
    a, b, x = r.randint(1, 5000), r.randint(1, 5000), r.randint(1, 50)
    sys.stdout.write(\"START TRANSACTION; UPDATE ACCOUNT_BALANCE SET BALANCE = BALANCE - %d WHERE ID = %d; \"
                     \"UPDATE ACCOUNT_BALANCE SET BALANCE = BALANCE + %d WHERE ID = %d; \"
                     \"INSERT INTO TRANSFER_LOG (FROM_ID, TO_ID, AMOUNT) VALUES (%d, %d, %d); COMMIT;\\n\" % (x, a, x, b, a, b, x))
    sys.stdout.flush()
    time.sleep(0.001)
' | mariadb --no-defaults -h127.0.0.1 -P$port -uobkeep -p$password $db" >/dev/null 2>&1 &
transfer_load=$!
add_cleanup "kill -- -$transfer_load 2>/dev/null"
count_transfers() { sql -N $db -e "SELECT COUNT(*) FROM TRANSFER_LOG"; }
before=$(count_transfers)
wait_for_growth "$before" count_transfers >/dev/null
expect_exit 0 obkeep backup --config "$config" --set databases
wait_for_growth "$(count_transfers)" count_transfers >/dev/null
kill -- -$consent_load -$transfer_load
wait $consent_load $transfer_load 2>/dev/null || true
after=$(count_transfers)
obkeep -r "$TEST_DIR/repo" ls latest >"$TEST_DIR/ls"
for stream in tables/ACCOUNT_BALANCE/3.tsv tables/TRANSFER_LOG/1.tsv tables/UK_ACCOUNT_INITIATION/3.tsv \
  tables/IDN_OAUTH2_ACCESS_TOKEN_SCOPE/2.tsv tables/DEVICE_KEY/2.tsv tables/CLIENT_APP/2.tsv tables/AUDIT_LOG.tsv; do
  grep -q "$stream\$" "$TEST_DIR/ls" || fail "no stream $stream in the dump: $(cat "$TEST_DIR/ls")"
done
grep -q "tables/AUDIT_LOG/" "$TEST_DIR/ls" && fail "a table without a primary key was cut into ranges"
obkeep restore-db latest --config "$config" --database WSO2_OPEN_BANKING_DB --to "jdbc:mysql://127.0.0.1:$port/restored_loaded" >/dev/null
restored=$(sql -N restored_loaded -e "SELECT COUNT(*) FROM TRANSFER_LOG")
[ "$before" -lt "$restored" ] && [ "$restored" -lt "$after" ] ||
  fail "the transfers did not run across the backup: before $before, restored $restored, after $after"
while read -r query; do
  [ "$(sql -N restored_loaded -e "$query")" = 0 ] || fail "invariant broken in the restore: $query"
done < <(python3 "$data" invariants mariadb; printf '%s\n' "${transfer_invariants[@]//$'\n'/ }")
pass "chunked backup under load ($before < $restored < $after transfers) restores with every invariant intact"

# 2. Quiet: every table restores checksum-identical.
expect_exit 0 obkeep backup --config "$config" --set databases
obkeep restore-db latest --config "$config" --database WSO2_OPEN_BANKING_DB --to "jdbc:mysql://127.0.0.1:$port/restored_quiet" >/dev/null
checksums $db >"$TEST_DIR/want"
checksums restored_quiet >"$TEST_DIR/got"
diff "$TEST_DIR/want" "$TEST_DIR/got" || fail "restored tables differ"
[ "$(sql -N -e "SELECT COUNT(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = 'restored_quiet' AND TABLE_NAME = 'TRANSFER_LOG'")" = 3 ] ||
  fail "indexes not restored"
pass "quiet chunked backup restores every table checksum-identical, with its indexes"

# 3. The one-stream-per-table layout of earlier versions (no table large enough to cut).
OBKEEP_MARIADB_CHUNK_ROWS=1000000000 expect_exit 0 obkeep backup --config "$config" --set databases
obkeep -r "$TEST_DIR/repo" ls latest >"$TEST_DIR/ls"
grep -q "tables/ACCOUNT_BALANCE.tsv\$" "$TEST_DIR/ls" || fail "not a one-stream-per-table dump: $(cat "$TEST_DIR/ls")"
obkeep restore-db latest --config "$config" --database WSO2_OPEN_BANKING_DB --to "jdbc:mysql://127.0.0.1:$port/restored_whole" >/dev/null
checksums restored_whole >"$TEST_DIR/got"
diff "$TEST_DIR/want" "$TEST_DIR/got" || fail "tables restored from a one-stream-per-table dump differ"
pass "a dump with one stream per table still restores identical"

# 4. A worker's connection killed in the middle of a range; a loader killed mid-LOAD.
sql -e "CREATE DATABASE openbank_apimgtdb; CREATE TABLE openbank_apimgtdb.AM_API_LOG (ID BIGINT PRIMARY KEY, BODY TEXT)"
sql openbank_apimgtdb -e "INSERT INTO AM_API_LOG SELECT seq, CONCAT(MD5(seq), REPEAT(MD5(seq * 7), 12)) FROM seq_1_to_200000;
  ANALYZE TABLE AM_API_LOG" >/dev/null
home2=$TEST_DIR/wso2-obam-2
write_home "$home2" "$(datasource WSO2AM_DB "jdbc:mysql://127.0.0.1:$port/openbank_apimgtdb" obkeep "$password")"
printf '[repository]\nurl = "%s"\n[deployment]\nhomes = ["%s"]\n' "$TEST_DIR/repo" "$home2" >"$TEST_DIR/am.toml"
# killed_mid_query PATTERN WANT WHAT COMMAND...: runs COMMAND, kills the server connection
# whose query matches PATTERN once it shows, and expects COMMAND to exit with WANT.
killed_mid_query() {
  local pattern=$1 want=$2 what=$3 id="" i status=0
  shift 3
  "$@" >"$TEST_DIR/stdout" 2>"$TEST_DIR/stderr" &
  local pid=$!
  for ((i = 0; i < 1000; i++)); do
    id=$(sql -N -e "SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE '$pattern' LIMIT 1")
    [ -z "$id" ] || break
    sleep 0.01
  done
  [ -n "$id" ] || fail "$what: no query like $pattern was seen"
  sql -e "KILL $id"
  wait $pid || status=$?
  [ "$status" = "$want" ] || fail "$what: exit $status, want $want: $(cat "$TEST_DIR/stderr")"
  expect_one_line_error
}
export OBKEEP_MARIADB_CHUNK_ROWS=40000
killed_mid_query 'SELECT * FROM `AM_API_LOG` WHERE%' 3 "backup with a killed worker" \
  "$OBKEEP_BIN" backup --config "$TEST_DIR/am.toml" --set databases
expect_stderr_matches "WSO2AM_DB.*reading AM_API_LOG \(key range [0-9]+\)"
obkeep -r "$TEST_DIR/repo" check >/dev/null || fail "check after a failed backup"
pass "a worker connection killed mid-range: exit 3, one line naming the database and the table's range"

expect_exit 0 obkeep backup --config "$TEST_DIR/am.toml" --set databases
killed_mid_query 'LOAD DATA LOCAL INFILE%' 1 "restore with a killed loader" \
  "$OBKEEP_BIN" restore-db latest --config "$TEST_DIR/am.toml" --database WSO2AM_DB --to "jdbc:mysql://127.0.0.1:$port/restored_am"
expect_stderr_matches "restored_am: loading AM_API_LOG from tables/AM_API_LOG/[0-9]+\.tsv"
pass "a loader killed mid-LOAD: exit 1, one line naming the table and the stream"
