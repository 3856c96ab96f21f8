#!/usr/bin/env bash
# PostgreSQL 15, real server: a quiet backup restores identical into a new database; a
# backup under concurrent load restores with every invariant intact; an unreachable server
# and a wrong password fail clearly while the other databases still back up (exit 3);
# an unchanged database deduplicates.
source "$(dirname "$0")/../lib.sh"
[ -x /usr/lib/postgresql/15/bin/postgres ] || fail "PostgreSQL 15 is not installed (scripts/setup.sh installs it)"

pg=$TEST_DIR/pg
bash "$OBKEEP_SOURCE_DIR/tests/servers/postgres.sh" start "$pg"
add_cleanup "bash '$OBKEEP_SOURCE_DIR/tests/servers/postgres.sh' stop '$pg'"
port=$(cat "$pg/port")
export PGPASSWORD=$(cat "$pg/password")
psql_() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres "$@"; }
data=$OBKEEP_SOURCE_DIR/tests/db/ob_data.py
psql_ -c "CREATE DATABASE openbank_openbankingdb" -c "CREATE DATABASE openbank_apimgtdb"
python3 "$data" schema postgres | psql_ -d openbank_openbankingdb
python3 "$data" data postgres 3000 1 | psql_ -d openbank_openbankingdb
python3 "$data" schema postgres | psql_ -d openbank_apimgtdb
python3 "$data" data postgres 300 2 | psql_ -d openbank_apimgtdb

home=$TEST_DIR/wso2-obam-1.5.0
write_home "$home" "$(datasource WSO2_OPEN_BANKING_DB "jdbc:postgresql://127.0.0.1:$port/openbank_openbankingdb" postgres "$PGPASSWORD")
$(datasource WSO2AM_DB "jdbc:postgresql://127.0.0.1:$port/openbank_apimgtdb?ssl=false&amp;connectTimeout=5" postgres "$PGPASSWORD")
$(datasource WSO2UM_DB "jdbc:postgresql://127.0.0.1:1/openbank_userdb" postgres "$PGPASSWORD")
$(datasource WSO2REG_DB "jdbc:postgresql://127.0.0.1:$port/openbank_apimgtdb2" postgres wrong-password)"
deployment_config "$home"

fingerprint() { # DB: md5 of every table's rows in a fixed order
  for table in $(python3 "$data" tables); do
    printf '%s ' "$table"
    psql_ -d "$1" -Atc "COPY (SELECT * FROM $table t ORDER BY t::text) TO STDOUT" | md5sum
  done
}

# 1. Quiet backup; two failing databases do not stop the others.
expect_exit 3 obkeep backup --config "$TEST_DIR/obkeep.toml" --set databases
expect_stderr_matches "database WSO2UM_DB: cannot connect to postgresql://127.0.0.1:1/openbank_userdb"
expect_stderr_matches "database WSO2REG_DB: cannot connect to postgresql://127.0.0.1:$port/openbank_apimgtdb2 as postgres: .*password authentication failed"
grep -q "wrong-password\|$PGPASSWORD" "$TEST_DIR/stderr" "$TEST_DIR/stdout" && fail "a password was printed"
grep -q "WSO2_OPEN_BANKING_DB .*snapshot" "$TEST_DIR/stdout" || fail "WSO2_OPEN_BANKING_DB was not backed up: $(cat "$TEST_DIR/stdout")"
grep -q "WSO2AM_DB .*snapshot" "$TEST_DIR/stdout" || fail "WSO2AM_DB was not backed up"
pass "unreachable server and wrong password reported; the other databases backed up (exit 3)"

obkeep restore-db latest --config "$TEST_DIR/obkeep.toml" --database WSO2_OPEN_BANKING_DB \
  --to "jdbc:postgresql://127.0.0.1:$port/restored_quiet" >/dev/null
fingerprint openbank_openbankingdb >"$TEST_DIR/want"
fingerprint restored_quiet >"$TEST_DIR/got"
diff "$TEST_DIR/want" "$TEST_DIR/got" || fail "restored database differs"
[ "$(psql_ -d restored_quiet -Atc "SELECT count(*) FROM pg_indexes WHERE indexname = 'idx_init_status'")" = 1 ] || fail "index not restored"
[ "$(psql_ -d restored_quiet -Atc "SELECT count(*) FROM information_schema.table_constraints WHERE constraint_type = 'FOREIGN KEY'")" = 2 ] || fail "foreign keys not restored"
[ "$(psql_ -d restored_quiet -Atc "SELECT last_value FROM uk_account_consent_rev_history_id_seq")" = \
  "$(psql_ -d openbank_openbankingdb -Atc "SELECT last_value FROM uk_account_consent_rev_history_id_seq")" ] || fail "sequence not restored"
pass "quiet backup restores into a new database with identical rows, indexes, foreign keys and sequences"

# 2. Under concurrent load.
setsid bash -c "python3 '$data' load postgres 7 | psql -X -q -h 127.0.0.1 -p $port -U postgres -d openbank_openbankingdb" >/dev/null 2>&1 &
load=$!
add_cleanup "kill -- -$load 2>/dev/null"
count_consents() { psql_ -d openbank_openbankingdb -Atc "SELECT count(*) FROM UK_ACCOUNT_INITIATION"; }
before=$(count_consents)
wait_for_growth "$before" count_consents >/dev/null  # the load is writing: the backup starts after $before
obkeep backup --config "$TEST_DIR/obkeep.toml" --set databases >/dev/null 2>&1 || true
wait_for_growth "$(count_consents)" count_consents >/dev/null  # and writes on after it
kill -- -$load; wait $load 2>/dev/null || true
after=$(psql_ -d openbank_openbankingdb -Atc "SELECT count(*) FROM UK_ACCOUNT_INITIATION")
obkeep restore-db latest --config "$TEST_DIR/obkeep.toml" --database WSO2_OPEN_BANKING_DB \
  --to "jdbc:postgresql://127.0.0.1:$port/restored_loaded" >/dev/null
restored=$(psql_ -d restored_loaded -Atc "SELECT count(*) FROM UK_ACCOUNT_INITIATION")
[ "$before" -lt "$restored" ] && [ "$restored" -lt "$after" ] ||
  fail "the load did not run across the backup: before $before, restored $restored, after $after"
while read -r query; do
  [ "$(psql_ -d restored_loaded -Atc "$query")" = 0 ] || fail "invariant broken in the restore: $query"
done < <(python3 "$data" invariants postgres)
pass "backup under load ($before < $restored < $after consents) restores with every invariant intact"

# 3. A small change deduplicates: status updates of the 1% most recently written consents and
# 1% new tokens (PostgreSQL appends them to the heap, dumped in physical order) cost a few
# chunks. Scattered inserts into pages freed by earlier deletes would cost more, so the table is
# compacted first: the load above left dead rows, and whether autovacuum had freed their space by
# now depended on timing (an UPDATE landing in freed pages all over the heap made this flaky).
# Two places change, each costing the chunk or two around it; dump chunks average 256 KiB of
# a dump of a few MiB, so where the boundaries fall moves the cost between 10% and 30%.
psql_ -d openbank_openbankingdb -c "VACUUM FULL" >/dev/null
obkeep backup --config "$TEST_DIR/obkeep.toml" --set databases >/dev/null 2>&1 || true
psql_ -d openbank_openbankingdb -c "UPDATE UK_ACCOUNT_INITIATION SET STATUS = 'Revoked' WHERE ctid IN (SELECT ctid FROM UK_ACCOUNT_INITIATION ORDER BY ctid DESC LIMIT 30)"
python3 "$data" tokens postgres 30 99 | psql_ -d openbank_openbankingdb
obkeep backup --config "$TEST_DIR/obkeep.toml" --set databases >/dev/null 2>&1 || true
obkeep -r "$TEST_DIR/repo" snapshots --tag set=databases --json | python3 "$OBKEEP_SOURCE_DIR/tests/db/dedup_ratio.py" openbank_openbankingdb 0.35
pass "a backup after a small change deduplicates against the previous one"
