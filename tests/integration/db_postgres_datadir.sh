#!/usr/bin/env bash
# PostgreSQL restore-db --to-datadir chooses its path: when a logical backup is newer than
# where the newest base backup reaches (here no WAL archive: the base's own time), it is
# loaded into a new cluster made in the directory (initdb, the datasource's user as the
# database's owner), said as "path: logical"; a server started on it holds what the
# source held at that backup, owned by the application's role. A newer base backup is taken
# instead ("path: physical"). A load that fails half way leaves the directory empty.
source "$(dirname "$0")/../lib.sh"
[ -x /usr/lib/postgresql/15/bin/postgres ] || fail "PostgreSQL 15 is not installed (scripts/setup.sh installs it)"
bin=/usr/lib/postgresql/15/bin
chmod 755 "$TEST_DIR"  # the clusters below run as postgres

pg=$TEST_DIR/pg
bash "$OBKEEP_SOURCE_DIR/tests/servers/postgres.sh" start "$pg"
add_cleanup "bash '$OBKEEP_SOURCE_DIR/tests/servers/postgres.sh' stop '$pg'"
port=$(cat "$pg/port")
export PGPASSWORD=$(cat "$pg/password")
psql_() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -U postgres "$@"; }
data=$OBKEEP_SOURCE_DIR/tests/db/ob_data.py
# The application's own role owns its database, as in WSO2's setup guides.
psql_ -p "$port" -c "CREATE ROLE obapp LOGIN REPLICATION PASSWORD 'obapp-password'" \
  -c "CREATE DATABASE openbank_openbankingdb OWNER obapp"
python3 "$data" schema postgres | PGPASSWORD=obapp-password psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U obapp -d openbank_openbankingdb
python3 "$data" data postgres 1500 1 | PGPASSWORD=obapp-password psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U obapp -d openbank_openbankingdb

home=$TEST_DIR/wso2-obkm-1.5.0
write_home "$home" "$(datasource WSO2_OPEN_BANKING_DB "jdbc:postgresql://127.0.0.1:$port/openbank_openbankingdb" obapp obapp-password)"
deployment_config "$home"
config=$TEST_DIR/obkeep.toml
printf '%s\n' "$OBKEEP_PASSWORD" >"$TEST_DIR/password"  # a physical restore's restore_command reads it
sed -i "s|^url = .*|&\npassword_file = \"$TEST_DIR/password\"|" "$config"  # used without OBKEEP_PASSWORD

fingerprint() { # DB PSQL...: md5 of every table's rows in a fixed order
  local db=$1 table; shift
  for table in $(python3 "$data" tables); do
    printf '%s ' "$table"
    "$@" -d "$db" -Atc "COPY (SELECT * FROM $table t ORDER BY t::text) TO STDOUT" | md5sum
  done
}
# A restored cluster has no password for postgres: its own socket, peer authentication.
rpsql() { runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -h "$TEST_DIR/c1" -p "$port1" "$@"; }
# start_on DATADIR PORT: a server on a restored directory, stopped at exit.
start_on() {
  runuser -u postgres -- "$bin/pg_ctl" -D "$1" -l "$1.log" -o "-p $2 -k '$(dirname "$1")' -c listen_addresses=127.0.0.1" -w -t 60 start >/dev/null ||
    fail "the restored cluster did not start: $(tail -n 20 "$1.log")"
  add_cleanup "runuser -u postgres -- '$bin/pg_ctl' -D '$1' -m immediate stop >/dev/null 2>&1"
}

# 1. A base backup, then writes, then a logical backup: the logical one is newer.
obkeep base-backup --config "$config" --database WSO2_OPEN_BANKING_DB >/dev/null
python3 "$data" tokens postgres 200 7 | PGPASSWORD=obapp-password psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U obapp -d openbank_openbankingdb >/dev/null
psql_ -p "$port" -d openbank_openbankingdb -c "SET ROLE obapp; CREATE TABLE after_base (mark text PRIMARY KEY); INSERT INTO after_base VALUES ('logical')"
obkeep backup --config "$config" --set databases >/dev/null
fingerprint openbank_openbankingdb psql_ -p "$port" >"$TEST_DIR/want"

mkdir "$TEST_DIR/c1" && chown postgres "$TEST_DIR/c1"
run_timed logical 300 "$OBKEEP_BIN" restore-db latest --config "$config" --database WSO2_OPEN_BANKING_DB --to-datadir "$TEST_DIR/c1/data"
[ "$RUN_EXIT" = 0 ] || fail "restore-db --to-datadir (logical) failed: $(cat "$TEST_DIR/stderr")"
grep -q "^path: logical: snapshot .*, newer than base backup .*'s newest point" "$TEST_DIR/logical.stdout" ||
  fail "restore-db does not say it took the logical path: $(cat "$TEST_DIR/logical.stdout")"
grep -q "owned by role obapp" "$TEST_DIR/logical.stdout" || fail "$(cat "$TEST_DIR/logical.stdout")"
ls /tmp | grep -q "^obkeep-pg-" && fail "the private server's socket directory was left in /tmp"
port1=$(unused_port)
start_on "$TEST_DIR/c1/data" "$port1"
fingerprint openbank_openbankingdb rpsql >"$TEST_DIR/got"
diff "$TEST_DIR/want" "$TEST_DIR/got" >/dev/null || fail "the new cluster differs from the source: $(diff "$TEST_DIR/want" "$TEST_DIR/got" | head -5)"
owners=$(rpsql -d openbank_openbankingdb -Atc "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'")
[ "$owners" = obapp ] || fail "restored tables are owned by '$owners', not obapp"
[ "$(rpsql -d openbank_openbankingdb -Atc "SELECT mark FROM after_base")" = logical ] || fail "the write after the base backup is missing"
pass "a logical backup newer than the base backup becomes a new cluster (path: logical, ${RUN_SECONDS}s): identical rows, tables owned by obapp"

# 2. A newer base backup is the newest recovery point: the physical path.
sleep 1
obkeep base-backup --config "$config" --database WSO2_OPEN_BANKING_DB >/dev/null
mkdir "$TEST_DIR/c2" && chown postgres "$TEST_DIR/c2"
env -u OBKEEP_PASSWORD "$OBKEEP_BIN" restore-db latest --config "$config" --database WSO2_OPEN_BANKING_DB \
  --to-datadir "$TEST_DIR/c2/data" >"$TEST_DIR/physical.out" 2>&1 || fail "restore-db --to-datadir (physical): $(cat "$TEST_DIR/physical.out")"
grep -q "^path: physical: base backup .*, the newest recovery point" "$TEST_DIR/physical.out" ||
  fail "restore-db does not say it took the physical path: $(cat "$TEST_DIR/physical.out")"
pass "a newer base backup is restored instead (path: physical)"

# 3. A load that fails half way (the repository's disk fails after the new cluster was made
# and its server started: the 5th pack read on): one line, the directory empty again, the
# private server stopped, the retry works.
logical_id=$(obkeep -r "$TEST_DIR/repo" snapshots --tag engine=postgresql --json | python3 -c "import json,sys; print(json.load(sys.stdin)[-1]['id'])")
mkdir "$TEST_DIR/c3" && chown postgres "$TEST_DIR/c3"
OBKEEP_TEST_FAULTS="load:pack@5+=EIO" expect_exit 1 obkeep restore-db "$logical_id" --config "$config" \
  --database WSO2_OPEN_BANKING_DB --to-datadir "$TEST_DIR/c3/data"
expect_stderr_matches "cannot load .* pack .*: Input/output error"
expect_one_line_error
[ -z "$(ls -A "$TEST_DIR/c3/data" 2>/dev/null)" ] || fail "the failed load left files: $(ls -A "$TEST_DIR/c3/data" | head -3)"
ls /tmp | grep -q "^obkeep-pg-" && fail "the failed load left its server's socket directory in /tmp"
pgrep -u postgres -f "postgres -D $TEST_DIR/c3/data" >/dev/null && fail "the failed load left its server running"
obkeep restore-db "$logical_id" --config "$config" --database WSO2_OPEN_BANKING_DB --to-datadir "$TEST_DIR/c3/data" >/dev/null ||
  fail "the retry into the emptied directory failed"
pass "a load into a new cluster that fails half way says so in one line and leaves the directory empty; the retry works"
