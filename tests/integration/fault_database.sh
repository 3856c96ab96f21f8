#!/usr/bin/env bash
# The database server stops in the middle of a dump (PostgreSQL 15 and MariaDB 10.11, real
# servers killed mid-stream): the backup ends within seconds with exit 3 (other sets and
# databases are kept), a one-line error names the database, no snapshot of a half dump is
# written, no lock is left, check passes, and once the server is back the next backup of it
# succeeds and restores. A repository that refuses a database backup (wrong password, an
# exclusive lock) stops it at once with its own error and exit code.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../faults.sh"

pg=$TEST_DIR/pg my=$TEST_DIR/my
bash "$OBKEEP_SOURCE_DIR/tests/servers/postgres.sh" start "$pg"
add_cleanup "bash '$OBKEEP_SOURCE_DIR/tests/servers/postgres.sh' stop '$pg'"
bash "$OBKEEP_SOURCE_DIR/tests/servers/mariadb.sh" start "$my"
add_cleanup "bash '$OBKEEP_SOURCE_DIR/tests/servers/mariadb.sh' stop '$my'"
pg_port=$(cat "$pg/port") my_port=$(cat "$my/port")
export PGPASSWORD=$(cat "$pg/password")
my_password=$(cat "$my/password")
psql_() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg_port" -U postgres "$@"; }
mariadb_() { mariadb --no-defaults -h127.0.0.1 -P"$my_port" -uobkeep -p"$my_password" "$@"; }

# Large enough that the dump is still streaming when the server goes (~60 MB each).
psql_ -c "CREATE DATABASE openbank_openbankingdb"
psql_ -d openbank_openbankingdb -c "CREATE TABLE consent_events (id bigint PRIMARY KEY, body text)" \
  -c "INSERT INTO consent_events SELECT g, md5(g::text) || repeat(md5((g * 7)::text), 12) FROM generate_series(1, 300000) g"
mariadb_ -e "CREATE DATABASE openbank_apimgtdb; CREATE TABLE openbank_apimgtdb.AM_API_LOG (ID BIGINT PRIMARY KEY, BODY TEXT)"
mariadb_ openbank_apimgtdb -e "SET SESSION max_recursive_iterations = 400000; INSERT INTO AM_API_LOG WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < 300000)
  SELECT g, CONCAT(MD5(g), REPEAT(MD5(g * 7), 12)) FROM s"

home=$TEST_DIR/wso2-obam-1.5.0
write_home "$home" "$(datasource WSO2_OPEN_BANKING_DB "jdbc:postgresql://127.0.0.1:$pg_port/openbank_openbankingdb" postgres "$PGPASSWORD")
$(datasource WSO2AM_DB "jdbc:mysql://127.0.0.1:$my_port/openbank_apimgtdb" obkeep "$my_password")"
deployment_config "$home"
config=$TEST_DIR/obkeep.toml
repo=$TEST_DIR/repo
db_snapshots() { # DATABASE_NAME: how many snapshots the repository holds of it
  obkeep -r "$repo" snapshots --json | python3 -c "import json, sys
print(sum(1 for s in json.load(sys.stdin) if any(t.startswith('database=') and t.endswith('/$1') for t in s.get('tags', []))))"
}

# stop_mid_dump WHAT STREAMING STOP: a database backup; once STREAMING says the server is
# sending the table, STOP stops the server hard.
stop_mid_dump() {
  local what=$1 streaming=$2 stop=$3
  local start=${EPOCHREALTIME/./}
  "$OBKEEP_BIN" backup --config "$config" --set databases >"$TEST_DIR/stdout" 2>"$TEST_DIR/stderr" &
  local pid=$! i
  for ((i = 0; i < 1000; i++)); do
    eval "$streaming" && break
    kill -0 "$pid" 2>/dev/null || fail "$what: the backup ended before the dump was seen streaming"
    sleep 0.01
  done
  eval "$stop"
  cell_exit=0
  timeout 60 tail --pid="$pid" -f /dev/null || { kill -9 "$pid"; fail "$what: the backup hung after the server stopped"; }
  wait "$pid" || cell_exit=$?
  cell_ms=$(((${EPOCHREALTIME/./} - start) / 1000))
}
pg_streaming="[ \"\$(psql_ -Atc \"SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COPY %consent_events%'\")\" != 0 ]"
my_streaming="mariadb_ -N -e 'SHOW PROCESSLIST' | grep -q 'AM_API_LOG'"

# 1. PostgreSQL killed (immediate shutdown) mid-dump.
before=$(db_snapshots openbank_openbankingdb)
stop_mid_dump "PostgreSQL stopped mid-dump" "$pg_streaming" "runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D '$pg/pg/data' -m immediate stop >/dev/null"
[ "$cell_exit" = 3 ] || fail "PostgreSQL stopped mid-dump: exit $cell_exit, want 3: $(cat "$TEST_DIR/stderr")"
grep -q "WSO2_OPEN_BANKING_DB" "$TEST_DIR/stderr" || fail "the error does not name the database: $(cat "$TEST_DIR/stderr")"
[ "$(grep -c WSO2_OPEN_BANKING_DB "$TEST_DIR/stderr")" = 1 ] || fail "want one line for the database: $(cat "$TEST_DIR/stderr")"
[ "$(db_snapshots openbank_openbankingdb)" = "$before" ] || fail "a snapshot of the half dump was written"
[ "$(db_snapshots openbank_apimgtdb)" -ge 1 ] || fail "the MariaDB database was not backed up alongside"
expect_repository_sound "PostgreSQL stopped mid-dump" "$repo"
record_cell "backup --set databases" "PostgreSQL killed mid-dump" "exit 3 in $cell_ms ms; one line naming the database; no snapshot of it; the other database kept; check clean"
runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$pg/pg/data" -l "$pg/pg/server.log" -w -t 60 start >/dev/null
expect_exit 0 obkeep backup --config "$config" --set databases
[ "$(db_snapshots openbank_openbankingdb)" = $((before + 1)) ] || fail "no snapshot after the server came back"
obkeep restore-db latest --config "$config" --database WSO2_OPEN_BANKING_DB \
  --to "jdbc:postgresql://127.0.0.1:$pg_port/restored_ob" >/dev/null
[ "$(psql_ -d restored_ob -Atc 'SELECT count(*) FROM consent_events')" = 300000 ] || fail "restored rows differ"
pass "PostgreSQL stopped mid-dump: exit 3 naming it, no half snapshot; after a restart the backup and restore succeed"

# 2. base-backup (the physical copy, over the replication protocol) under faults: a pack save
#    that fails, and kill -9 at seeded storage calls; the server is left in no backup state.
run_with_fault 'save:pack@2=ENOSPC' 120 obkeep base-backup --config "$config" --database WSO2_OPEN_BANKING_DB
expect_clean_failure "base-backup × save:pack@2=ENOSPC" 1 "No space left on device \(injected fault\)"
expect_repository_sound "base-backup × save:pack@2=ENOSPC" "$repo"
record_cell base-backup "save:pack@2=ENOSPC" "exit 1 in $cell_ms ms; one line; no lock; check clean"
for n in 3 9 14; do
  run_with_fault "*@$n=kill" 120 obkeep base-backup --config "$config" --database WSO2_OPEN_BANKING_DB
  [ "$cell_exit" = 137 ] || fail "base-backup with *@$n=kill: exit $cell_exit: $(cat "$TEST_DIR/stderr")"
  obkeep -r "$repo" check >/dev/null 2>"$TEST_DIR/check.err" || fail "check after base-backup killed at call $n: $(cat "$TEST_DIR/check.err")"
  record_cell base-backup "kill -9 before call $n" "check clean"
done
expect_exit 0 obkeep base-backup --config "$config" --database WSO2_OPEN_BANKING_DB
grep -q "base backup of WSO2_OPEN_BANKING_DB: snapshot" "$TEST_DIR/stdout" || fail "no base backup after the faults: $(cat "$TEST_DIR/stdout")"
obkeep -r "$repo" check >/dev/null
pass "base-backup: a failed pack save is a one-line error; killed at any of three points, the repository checks clean and the next base backup succeeds"

# 3. A repository that will not take the backup stops it before any database is dumped, and
#    its error is the one reported: a wrong password (exit 12) and an exclusive lock held by
#    a running prune (exit 11), each within seconds, on one line, with no snapshot and no
#    lock of ours left; the killed prune's lock is cleared by the next backup.
before=$(db_snapshots openbank_apimgtdb)
echo wrong >"$TEST_DIR/wrong-password"
start=${EPOCHREALTIME/./}
expect_exit 12 env -u OBKEEP_PASSWORD "$OBKEEP_BIN" --password-file "$TEST_DIR/wrong-password" backup --config "$config" --set databases
expect_stderr_matches "wrong password"
expect_one_line_error
ms=$(((${EPOCHREALTIME/./} - start) / 1000))
[ "$ms" -lt 5000 ] || fail "a wrong password stopped the backup after $ms ms"
record_cell "backup --set databases" "wrong repository password" "exit 12 in $ms ms; one line; nothing dumped"
OBKEEP_TEST_FAULTS='load:snapshot@1+=hang' "$OBKEEP_BIN" -r "$repo" prune >/dev/null 2>&1 &
prune=$!
for _ in $(seq 1 200); do locked "$repo" && break; sleep 0.05; done
locked "$repo" || fail "the prune took no lock"
start=${EPOCHREALTIME/./}
expect_exit 11 obkeep backup --config "$config" --set databases
expect_stderr_matches "already locked exclusively by pid $prune"
expect_one_line_error
ms=$(((${EPOCHREALTIME/./} - start) / 1000))
[ "$ms" -lt 5000 ] || fail "a conflicting lock stopped the backup after $ms ms"
record_cell "backup --set databases" "repository locked by a prune" "exit 11 in $ms ms; one line naming the holder"
kill -9 "$prune"
wait "$prune" 2>/dev/null || true
[ "$(db_snapshots openbank_apimgtdb)" = "$before" ] || fail "a database was backed up although its repository refused"
expect_exit 0 obkeep backup --config "$config" --set databases  # clears the killed prune's lock
expect_repository_sound "after a backup refused by its repository" "$repo"
[ "$(db_snapshots openbank_apimgtdb)" = $((before + 1)) ] || fail "no snapshot once the repository took the backup"
pass "a repository that refuses the backup (wrong password, exclusive lock) stops it with its own error"

# 4. MariaDB killed mid-dump.
before=$(db_snapshots openbank_apimgtdb)
stop_mid_dump "MariaDB stopped mid-dump" "$my_streaming" "kill -9 \$(cat '$my/maria/run/pid')"
[ "$cell_exit" = 3 ] || fail "MariaDB stopped mid-dump: exit $cell_exit, want 3: $(cat "$TEST_DIR/stderr")"
[ "$(grep -c WSO2AM_DB "$TEST_DIR/stderr")" = 1 ] || fail "want one line naming the database: $(cat "$TEST_DIR/stderr")"
[ "$(db_snapshots openbank_apimgtdb)" = "$before" ] || fail "a snapshot of the half dump was written"
expect_repository_sound "MariaDB stopped mid-dump" "$repo"
record_cell "backup --set databases" "MariaDB killed mid-dump" "exit 3 in $cell_ms ms; one line naming the database; no snapshot of it; check clean"
bash "$OBKEEP_SOURCE_DIR/tests/servers/mariadb.sh" stop "$my"
pass "MariaDB stopped mid-dump: exit 3 naming it, no half snapshot"

print_cells
