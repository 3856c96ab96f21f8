# Sourced by integration tests (after lib.sh): a PostgreSQL 15 server whose archive_command
# is `obkeep wal-push --stanza ob` into $TEST_DIR/repo, a WSO2 home whose datasource names its
# database openbank_openbankingdb, and $TEST_DIR/obkeep.toml for both. The server runs as
# postgres and its archive_command writes the repository, so every obkeep command runs as
# postgres too (as_postgres), and the repository stays writable for both.
as_postgres_setup
mkdir "$TEST_DIR/repo" && chown postgres "$TEST_DIR/repo"
as_postgres "$OBKEEP_BIN" -r "$TEST_DIR/repo" init >/dev/null

pg=$TEST_DIR/pg
archive="'$OBKEEP_BIN' -r '$TEST_DIR/repo' --password-file '$TEST_DIR/repo.password' -q wal-push --stanza ob %p"
bash "$OBKEEP_SOURCE_DIR/tests/servers/postgres.sh" start "$pg" "archive_mode = on" "archive_command = '${archive//\'/\'\'}'" "archive_timeout = 0"
add_cleanup "bash '$OBKEEP_SOURCE_DIR/tests/servers/postgres.sh' stop '$pg'"
port=$(cat "$pg/port")
export PGPASSWORD=$(cat "$pg/password")
psql_() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -U postgres "$@"; }
psql_ -p "$port" -c "CREATE DATABASE openbank_openbankingdb"
psql_ -p "$port" -d openbank_openbankingdb -c "CREATE TABLE consent_events (id serial PRIMARY KEY, what text, at timestamptz DEFAULT clock_timestamp())" \
  -c "INSERT INTO consent_events (what) SELECT 'before the base backup ' || g FROM generate_series(1, 1000) g"

home=$TEST_DIR/wso2-obkm-1.5.0
write_home "$home" "$(datasource WSO2_OPEN_BANKING_DB "jdbc:postgresql://127.0.0.1:$port/openbank_openbankingdb" postgres "$PGPASSWORD")"
chmod -R a+rX "$home"
cat >"$TEST_DIR/obkeep.toml" <<TOML
[repository]
url = "$TEST_DIR/repo"
password_file = "$TEST_DIR/repo.password"
[deployment]
homes = ["$home"]
TOML
chmod 644 "$TEST_DIR/obkeep.toml"

# switch_wal: closes the current WAL segment, waits until it is archived, prints its name.
switch_wal() {
  local segment
  segment=$(psql_ -p "$port" -At -c "SELECT pg_walfile_name(pg_switch_wal())")
  for _ in $(seq 1 100); do
    [ "$(psql_ -p "$port" -At -c "SELECT last_archived_wal >= '$segment' FROM pg_stat_archiver")" = t ] && break
    sleep 0.2
  done
  [ "$(psql_ -p "$port" -At -c "SELECT last_archived_wal >= '$segment' FROM pg_stat_archiver")" = t ] ||
    fail "WAL was not archived: $(psql_ -p "$port" -At -c "SELECT * FROM pg_stat_archiver")"
  echo "$segment"
}
# utc_now: the server's clock, as restore-db --until takes it.
utc_now() { psql_ -p "$port" -At -c "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"; }
# start_restored DATADIR: starts a server on a restored data directory (on an unused port,
# set in restored_port; another if a test beside took it first) and waits until its
# recovery has ended.
start_restored() {
  local data=$1 port2 attempt
  for attempt in 1 2 3; do
    port2=$(unused_port)
    runuser -u postgres -- "$bin/pg_ctl" -D "$data" -l "$data.log" -o "-p $port2 -k '$(dirname "$data")'" -w -t 60 start >/dev/null && break
    grep -q "Address already in use" "$data.log" && [ "$attempt" -lt 3 ] || fail "the restored server did not start: $(tail -n 20 "$data.log")"
  done
  restored_port=$port2
  add_cleanup "runuser -u postgres -- '$bin/pg_ctl' -D '$data' -m immediate stop >/dev/null 2>&1"
  for _ in $(seq 1 150); do
    [ "$(psql_ -p "$port2" -At -c "SELECT pg_is_in_recovery()" 2>/dev/null)" = f ] && break
    sleep 0.2
  done
  [ "$(psql_ -p "$port2" -At -c "SELECT pg_is_in_recovery()")" = f ] || fail "recovery did not finish: $(tail -n 20 "$data.log")"
}
