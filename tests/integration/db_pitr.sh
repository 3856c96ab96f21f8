#!/usr/bin/env bash
# PostgreSQL point-in-time recovery through obkeep: archive_command = obkeep wal-push, a base
# backup, then restore-db --until a time between two committed writes into a new data
# directory; the server started on it has the first write and not the second.
source "$(dirname "$0")/../lib.sh"
bin=/usr/lib/postgresql/15/bin
[ -x "$bin/postgres" ] || fail "PostgreSQL 15 is not installed (scripts/setup.sh installs it)"
id postgres >/dev/null 2>&1 || fail "no postgres user"
OBKEEP_BIN=$(binary_for_other_users)  # the server's archive_command runs it as postgres

# The server runs as postgres and its archive_command writes the repository: every obkeep
# command here runs as postgres too, so the repository stays writable for both.
echo "pitr-repository-password" >"$TEST_DIR/repo.password"
chown postgres "$TEST_DIR/repo.password" && chmod 600 "$TEST_DIR/repo.password"
mkdir "$TEST_DIR/repo" && chown postgres "$TEST_DIR/repo"
as_postgres() { runuser -u postgres -- env -u OBKEEP_PASSWORD OBKEEP_PASSWORD_FILE="$TEST_DIR/repo.password" "$@"; }
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

as_postgres "$OBKEEP_BIN" base-backup --config "$TEST_DIR/obkeep.toml" --database WSO2_OPEN_BANKING_DB >"$TEST_DIR/base.out"
grep -q "base backup of WSO2_OPEN_BANKING_DB: snapshot" "$TEST_DIR/base.out" || fail "no base backup: $(cat "$TEST_DIR/base.out")"

psql_ -p "$port" -d openbank_openbankingdb -c "INSERT INTO consent_events (what) VALUES ('first write')"
sleep 1
target=$(psql_ -p "$port" -At -c "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
sleep 1
psql_ -p "$port" -d openbank_openbankingdb -c "INSERT INTO consent_events (what) VALUES ('second write')"
# Close the WAL segment holding both writes and wait until it is archived.
segment=$(psql_ -p "$port" -At -c "SELECT pg_walfile_name(pg_switch_wal())")
for _ in $(seq 1 100); do
  [ "$(psql_ -p "$port" -At -c "SELECT last_archived_wal >= '$segment' FROM pg_stat_archiver")" = t ] && break
  sleep 0.2
done
[ "$(psql_ -p "$port" -At -c "SELECT last_archived_wal >= '$segment' FROM pg_stat_archiver")" = t ] ||
  fail "WAL was not archived: $(psql_ -p "$port" -At -c "SELECT * FROM pg_stat_archiver")"
[ "$(as_postgres "$OBKEEP_BIN" -r "$TEST_DIR/repo" check --json | python3 -c "import json, sys; print(json.load(sys.stdin)['archive_entries'])")" -ge 2 ] ||
  fail "the archive holds too few WAL files"
[ -z "$(as_postgres "$OBKEEP_BIN" -r "$TEST_DIR/repo" snapshots --tag set=wal --json | python3 -c "import json, sys; print(' '.join(s['id'] for s in json.load(sys.stdin)))")" ] ||
  fail "WAL files became snapshots, not archive entries"
pass "archive_command = obkeep wal-push archives WAL as archive entries; base-backup stores a base backup"

# Prune keeps what the archive entries use: only the base backup is a snapshot.
as_postgres "$OBKEEP_BIN" -r "$TEST_DIR/repo" -q prune >"$TEST_DIR/prune.out" 2>&1 || fail "prune: $(cat "$TEST_DIR/prune.out")"
as_postgres "$OBKEEP_BIN" -r "$TEST_DIR/repo" -q check >"$TEST_DIR/check.out" 2>&1 || fail "check after prune: $(cat "$TEST_DIR/check.out")"
mkdir "$TEST_DIR/fetched" && chown postgres "$TEST_DIR/fetched"
as_postgres "$OBKEEP_BIN" -r "$TEST_DIR/repo" wal-fetch --stanza ob "$segment" "$TEST_DIR/fetched/$segment" ||
  fail "wal-fetch of $segment after prune failed"
pass "prune keeps archived WAL; check is clean"

mkdir "$TEST_DIR/pg2" && chown postgres "$TEST_DIR/pg2"
restored=$TEST_DIR/pg2/data
as_postgres "$OBKEEP_BIN" restore-db latest --config "$TEST_DIR/obkeep.toml" --database WSO2_OPEN_BANKING_DB \
  --to-datadir "$restored" --until "$target" --stanza ob >"$TEST_DIR/restore.out"
grep -q "replays archived WAL (stanza ob) up to $target" "$TEST_DIR/restore.out" || fail "restore-db said: $(cat "$TEST_DIR/restore.out")"
port2=$((port + 1))
runuser -u postgres -- "$bin/pg_ctl" -D "$restored" -l "$TEST_DIR/pg2/server.log" -o "-p $port2 -k '$TEST_DIR/pg2'" -w -t 60 start >/dev/null ||
  fail "the restored server did not start: $(tail -n 20 "$TEST_DIR/pg2/server.log")"
add_cleanup "runuser -u postgres -- '$bin/pg_ctl' -D '$restored' -m immediate stop >/dev/null 2>&1"
for _ in $(seq 1 150); do
  [ "$(psql_ -p "$port2" -At -c "SELECT pg_is_in_recovery()" 2>/dev/null)" = f ] && break
  sleep 0.2
done
[ "$(psql_ -p "$port2" -At -c "SELECT pg_is_in_recovery()")" = f ] || fail "recovery did not finish: $(tail -n 20 "$TEST_DIR/pg2/server.log")"
rows=$(psql_ -p "$port2" -d openbank_openbankingdb -At -c "SELECT string_agg(what, ',' ORDER BY id) FROM consent_events WHERE what LIKE '%write'")
[ "$rows" = "first write" ] || fail "recovered to $target, want only the first write, got: '$rows'"
[ "$(psql_ -p "$port2" -d openbank_openbankingdb -At -c "SELECT count(*) FROM consent_events")" = 1001 ] || fail "rows before the base backup are missing"
grep -q "recovery stopping before commit" "$TEST_DIR/pg2/server.log" || fail "the server did not stop at the target: $(grep -i recovery "$TEST_DIR/pg2/server.log")"
pass "restore-db --until $target recovered the first write and not the second"

# Bad input.
expect_exit 2 as_postgres "$OBKEEP_BIN" restore-db latest --config "$TEST_DIR/obkeep.toml" --database WSO2_OPEN_BANKING_DB \
  --to "jdbc:postgresql://127.0.0.1:$port/x" --until "$target"
expect_stderr_matches "--until with --to is for MariaDB/MySQL \\(binlog replay\\); for PostgreSQL use --to-datadir"
expect_exit 2 as_postgres "$OBKEEP_BIN" restore-db latest --config "$TEST_DIR/obkeep.toml" --database WSO2_OPEN_BANKING_DB \
  --to-datadir "$TEST_DIR/other" --until "yesterday"
expect_stderr_matches "--until: not an RFC 3339 time: yesterday"
expect_exit 1 as_postgres "$OBKEEP_BIN" -r "$TEST_DIR/repo" wal-fetch --stanza ob 000000010000000000000099 "$TEST_DIR/x"
expect_stderr_matches "WAL file 000000010000000000000099 is not in the archive \(stanza ob\)"
expect_one_line_error
pass "PITR bad input: one-line errors"

# The daemon's wal job: a quiet server's written WAL is switched out and archived within the
# interval (the PITR recovery point stays within the RPO), and an archive_command that
# fails is a failed job with its alert, naming the segment.
mkdir "$TEST_DIR/daemon" && chown postgres "$TEST_DIR/daemon"
cat >"$TEST_DIR/daemon.toml" <<TOML
[repository]
url = "$TEST_DIR/repo"
password_file = "$TEST_DIR/repo.password"
[deployment]
homes = ["$home"]
[daemon]
wal_every = "1s"
[alerts]
command = "cat >>'$TEST_DIR/daemon/alerts.jsonl'; echo >>'$TEST_DIR/daemon/alerts.jsonl'"
TOML
chmod 644 "$TEST_DIR/daemon.toml"
archived() { psql_ -p "$port" -At -c "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver"; }
before=$(archived)
psql_ -p "$port" -d openbank_openbankingdb -c "INSERT INTO consent_events (what) VALUES ('a quiet write')"
sleep 1.5  # older than wal_every
as_postgres "$OBKEEP_BIN" daemon --config "$TEST_DIR/daemon.toml" --once >"$TEST_DIR/daemon/run1.log" 2>&1 ||
  fail "daemon --once: $(tail -n 3 "$TEST_DIR/daemon/run1.log")"
grep -q 'job=wal target=postgresql://127.0.0.1:'"$port"'/openbank_openbankingdb outcome=ok.*archiving=on.*switched=true' "$TEST_DIR/daemon/run1.log" ||
  fail "no wal job that switched: $(grep 'job=wal' "$TEST_DIR/daemon/run1.log")"
for _ in $(seq 1 100); do [ "$(archived)" \> "$before" ] && break; sleep 0.2; done
after=$(archived)
[ "$after" \> "$before" ] || fail "the switched segment was not archived: still $before"
as_postgres "$OBKEEP_BIN" -r "$TEST_DIR/repo" wal-fetch --stanza ob "$after" "$TEST_DIR/daemon/fetched" ||
  fail "segment $after is not in the repository"
pass "the daemon's wal job switches out a quiet server's WAL, which is then archived into the repository"

psql_ -p "$port" -c "ALTER SYSTEM SET archive_command = 'false'" -c "SELECT pg_reload_conf()" >/dev/null
failing=$(psql_ -p "$port" -At -c "SELECT pg_walfile_name(pg_switch_wal())")
psql_ -p "$port" -d openbank_openbankingdb -c "INSERT INTO consent_events (what) VALUES ('not archived')"
psql_ -p "$port" -At -c "SELECT pg_switch_wal()" >/dev/null
for _ in $(seq 1 100); do [ "$(psql_ -p "$port" -At -c "SELECT failed_count > 0 FROM pg_stat_archiver")" = t ] && break; sleep 0.2; done
as_postgres "$OBKEEP_BIN" daemon --config "$TEST_DIR/daemon.toml" --once >"$TEST_DIR/daemon/run2.log" 2>&1 ||
  fail "daemon --once: $(tail -n 3 "$TEST_DIR/daemon/run2.log")"
grep -q 'job=wal .*outcome=failed.*archive_command is failing on postgresql://127.0.0.1:'"$port"'/openbank_openbankingdb: WAL 0000' \
  "$TEST_DIR/daemon/run2.log" || fail "no failed wal job: $(grep 'job=wal' "$TEST_DIR/daemon/run2.log")"
python3 - "$TEST_DIR/daemon/alerts.jsonl" <<'PY' || fail "no wal_failed alert: $(cat "$TEST_DIR/daemon/alerts.jsonl")"
import json, sys
events = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
failed = [e for e in events if e["event"] == "wal_failed"]
assert len(failed) == 1 and "archive_command is failing" in failed[0]["error"], events
PY
psql_ -p "$port" -c "ALTER SYSTEM RESET archive_command" -c "SELECT pg_reload_conf()" >/dev/null
pass "a failing archive_command fails the wal job, alerted once as wal_failed"
