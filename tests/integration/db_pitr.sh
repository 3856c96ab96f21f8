#!/usr/bin/env bash
# PostgreSQL point-in-time recovery through obkeep: archive_command = obkeep wal-push, a base
# backup, then restore-db --until a time between two committed writes into a new data
# directory; the server started on it has the first write and not the second.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../postgres_archiving.sh"

as_postgres "$OBKEEP_BIN" base-backup --config "$TEST_DIR/obkeep.toml" --database WSO2_OPEN_BANKING_DB --stanza ob >"$TEST_DIR/base.out"
grep -q "base backup of WSO2_OPEN_BANKING_DB: snapshot" "$TEST_DIR/base.out" || fail "no base backup: $(cat "$TEST_DIR/base.out")"

psql_ -p "$port" -d openbank_openbankingdb -c "INSERT INTO consent_events (what) VALUES ('first write')"
sleep 1
target=$(utc_now)
sleep 1
psql_ -p "$port" -d openbank_openbankingdb -c "INSERT INTO consent_events (what) VALUES ('second write')"
segment=$(switch_wal)  # the segment holding both writes
[ "$(as_postgres "$OBKEEP_BIN" -r "$TEST_DIR/repo" check --json | python3 -c "import json, sys; print(json.load(sys.stdin)['archive_entries'])")" -ge 2 ] ||
  fail "the archive holds too few WAL files"
[ -z "$(as_postgres "$OBKEEP_BIN" -r "$TEST_DIR/repo" snapshots --tag set=wal --json | python3 -c "import json, sys; print(' '.join(s['id'] for s in json.load(sys.stdin)))")" ] ||
  fail "WAL files became snapshots, not archive entries"
pass "archive_command = obkeep wal-push archives WAL as archive entries; base-backup stores a base backup"

# status counts the archive: the recovery point is the newest archived segment's, past the
# base backup's own time.
sed 's/^homes = .*$/&\n[policy.databases]\nrpo = "1h"/' "$TEST_DIR/obkeep.toml" >"$TEST_DIR/status.toml"
chmod 644 "$TEST_DIR/status.toml"
as_postgres "$OBKEEP_BIN" status --config "$TEST_DIR/status.toml" --json >"$TEST_DIR/status.json" ||
  fail "status: $(cat "$TEST_DIR/status.json")"
python3 - "$TEST_DIR/status.json" "$target" <<'PY' || fail "status does not count the WAL archive: $(cat "$TEST_DIR/status.json")"
import json, sys, datetime
when = lambda text: datetime.datetime.fromisoformat(text[:26].rstrip("Z") + "+00:00").timestamp()
status, target = json.load(open(sys.argv[1])), when(sys.argv[2])
[o] = [o for o in status["objectives"] if o["set"] == "databases"]
point = when(o["newest_recovery_point"])
assert point > target, (o, target)
assert o["verdict"] == "met", o
PY
pass "status: the database's recovery point is the archive's newest segment, after $target"

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
start_restored "$restored"
port2=$restored_port
rows=$(psql_ -p "$port2" -d openbank_openbankingdb -At -c "SELECT string_agg(what, ',' ORDER BY id) FROM consent_events WHERE what LIKE '%write'")
[ "$rows" = "first write" ] || fail "recovered to $target, want only the first write, got: '$rows'"
[ "$(psql_ -p "$port2" -d openbank_openbankingdb -At -c "SELECT count(*) FROM consent_events")" = 1001 ] || fail "rows before the base backup are missing"
grep -q "recovery stopping before commit" "$restored.log" || fail "the server did not stop at the target: $(grep -i recovery "$restored.log")"
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

# A base backup's extraction that fails half way (the largest pack of a copy of the
# repository damaged) says so in one line and leaves the data directory empty for the retry.
cp -a "$TEST_DIR/repo" "$TEST_DIR/damaged"
pack=$(find "$TEST_DIR/damaged/data" -type f -printf '%s %p\n' | sort -n | tail -n 1 | cut -d' ' -f2)
damage_pack "$pack"
mkdir "$TEST_DIR/pg3" && chown postgres "$TEST_DIR/pg3"
expect_exit 1 as_postgres "$OBKEEP_BIN" -r "$TEST_DIR/damaged" restore-db latest --config "$TEST_DIR/obkeep.toml" \
  --database WSO2_OPEN_BANKING_DB --to-datadir "$TEST_DIR/pg3/data" --stanza ob
expect_stderr_matches "is damaged"
expect_one_line_error
[ -z "$(ls -A "$TEST_DIR/pg3/data")" ] || fail "the failed extraction left files: $(ls -A "$TEST_DIR/pg3/data" | head -3)"
as_postgres "$OBKEEP_BIN" restore-db latest --config "$TEST_DIR/obkeep.toml" --database WSO2_OPEN_BANKING_DB \
  --to-datadir "$TEST_DIR/pg3/data" --stanza ob >/dev/null || fail "the retry into the emptied data directory failed"
pass "a base backup extraction that fails half way says so in one line and leaves the data directory empty; the retry works"

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
