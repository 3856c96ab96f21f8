#!/usr/bin/env bash
# Asynchronous WAL archiving: archive_command = obkeep wal-push --async copies each segment
# into a local spool and returns; a background drainer pushes the spool. Segments arrive in
# the repository; a push the drainer cannot make is reported by the next archive_command,
# which fails (PostgreSQL keeps its WAL), and once the repository is back archiving goes on.
source "$(dirname "$0")/../lib.sh"
as_postgres_setup
mkdir "$TEST_DIR/work" && chown postgres "$TEST_DIR/work"
repo=$TEST_DIR/work/repo spool=$TEST_DIR/work/spool
as_postgres "$OBKEEP_BIN" -r "$repo" init >/dev/null
# archive_command's own key: a generated random password, cheap to derive.
as_postgres "$OBKEEP_BIN" -r "$repo" -q key add --generate-password-file "$TEST_DIR/work/archive.password"
[ "$(stat -c %a "$TEST_DIR/work/archive.password")" = 600 ] || fail "the generated password file is not mode 0600"
expect_exit 1 as_postgres "$OBKEEP_BIN" -r "$repo" key add --generate-password-file "$TEST_DIR/work/archive.password"
expect_stderr_matches "cannot create password file .*archive.password: File exists"

pg=$TEST_DIR/pg
archive="'$OBKEEP_BIN' -r '$repo' --password-file '$TEST_DIR/work/archive.password' -q wal-push --async --spool '$spool' --stanza ob %p"
bash "$OBKEEP_SOURCE_DIR/tests/servers/postgres.sh" start "$pg" "archive_mode = on" "archive_command = '${archive//\'/\'\'}'" "archive_timeout = 0"
add_cleanup "bash '$OBKEEP_SOURCE_DIR/tests/servers/postgres.sh' stop '$pg'"
# A drainer still running when the test ends: stopped by its pid (it holds the spool's lock).
add_cleanup "for p in \$(fuser '$spool/ob/drain.lock' 2>/dev/null); do kill \$p; done"
port=$(cat "$pg/port")
export PGPASSWORD=$(cat "$pg/password")
psql_() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres "$@"; }
archived() { psql_ -At -c "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver"; }
switch_segments() { # N: write and close N segments; prints the last one's name
  local i last
  for ((i = 0; i < $1; i++)); do
    psql_ -c "CREATE TABLE IF NOT EXISTS t (x text)" -c "INSERT INTO t SELECT repeat('x', 100) FROM generate_series(1, 1000)"
    last=$(psql_ -At -c "SELECT pg_walfile_name(pg_switch_wal())")
  done
  echo "$last"
}
# wait_until_fetchable NAME: the drainer has pushed the segment NAME.
wait_until_fetchable() {
  local i
  for ((i = 0; i < 150; i++)); do
    as_postgres "$OBKEEP_BIN" -r "$repo" -q wal-fetch --stanza ob "$1" "$TEST_DIR/work/fetched" 2>/dev/null && return 0
    sleep 0.2
  done
  fail "segment $1 never reached the repository; drain.log: $(cat "$spool/ob/drain.log" 2>/dev/null)"
}

last=$(switch_segments 5)
for _ in $(seq 1 150); do [ "$(archived)" \< "$last" ] || break; sleep 0.2; done
[ "$(archived)" \< "$last" ] && fail "PostgreSQL did not archive up to $last: $(psql_ -At -c "SELECT * FROM pg_stat_archiver")"
wait_until_fetchable "$last"
for _ in $(seq 1 100); do [ -z "$(ls "$spool/ob/queue")" ] && break; sleep 0.2; done
[ -z "$(ls "$spool/ob/queue")" ] || fail "the spool still holds: $(ls "$spool/ob/queue")"
[ "$(psql_ -At -c "SELECT failed_count FROM pg_stat_archiver")" = 0 ] || fail "archive_command failed: $(grep obkeep "$pg/pg/server.log")"
pass "wal-push --async with a generated key: PostgreSQL archived 5 segments through the spool; all reached the repository"

# The call itself only spools: a 16 MiB segment takes well under a second.
head -c 16777216 /dev/urandom >"$TEST_DIR/work/00000001000000FF00000001" && chown postgres "$TEST_DIR/work/00000001000000FF00000001"
start=$(date +%s%N)
as_postgres "$OBKEEP_BIN" -r "$repo" -q wal-push --async --spool "$spool" --stanza ob "$TEST_DIR/work/00000001000000FF00000001"
spooled_ms=$((($(date +%s%N) - start) / 1000000))
echo "  wal-push --async of a 16 MiB segment returned in $spooled_ms ms"
[ "$spooled_ms" -lt 3000 ] || fail "wal-push --async took $spooled_ms ms"
wait_until_fetchable 00000001000000FF00000001
cmp -s "$TEST_DIR/work/fetched" "$TEST_DIR/work/00000001000000FF00000001" || fail "the fetched segment differs"
pass "wal-push --async returns in $spooled_ms ms; the segment arrives whole"

# The repository goes away: the drainer's failure is reported by the next archive_command.
for _ in $(seq 1 100); do [ -z "$(fuser "$spool/ob/drain.lock" 2>/dev/null)" ] && break; sleep 0.1; done
mv "$repo" "$repo.away"
failing=$(switch_segments 1)
for _ in $(seq 1 100); do [ -f "$spool/ob/failure" ] && break; sleep 0.2; done
[ -f "$spool/ob/failure" ] || fail "no failure recorded; drain.log: $(cat "$spool/ob/drain.log")"
switch_segments 1 >/dev/null  # the archiver's next call meets the failure
for _ in $(seq 1 150); do [ "$(psql_ -At -c "SELECT failed_count > 0 FROM pg_stat_archiver")" = t ] && break; sleep 0.2; done
[ "$(psql_ -At -c "SELECT failed_count > 0 FROM pg_stat_archiver")" = t ] || fail "archive_command never failed"
grep -q "asynchronous WAL push of stanza ob failed" "$pg/pg/server.log" ||
  fail "the server log does not name the failure: $(grep -i obkeep "$pg/pg/server.log" | tail -n 3)"
expect_exit 1 as_postgres "$OBKEEP_BIN" -r "$repo" wal-push --async --spool "$spool" --stanza ob "$TEST_DIR/work/00000001000000FF00000001"
expect_stderr_matches "asynchronous WAL push of stanza ob failed"
expect_one_line_error
pass "a failed asynchronous push makes the next wal-push fail, naming the cause"

# Meanwhile the spool holds the only copy of $failing: a fetch given the spool finds it there.
[ -f "$spool/ob/queue/$failing" ] || fail "$failing is not queued in the spool"
as_postgres "$OBKEEP_BIN" -r "$repo" -q wal-fetch --stanza ob --spool "$spool" "$failing" "$TEST_DIR/work/from-queue" ||
  fail "wal-fetch of $failing from the spool, with the repository away, failed"
cmp -s "$TEST_DIR/work/from-queue" "$spool/ob/queue/$failing" || fail "the segment fetched from the spool differs"
pass "a segment not pushed yet is fetched from the spool (the repository away)"

mv "$repo.away" "$repo"
latest=$(switch_segments 1)
wait_until_fetchable "$failing"
wait_until_fetchable "$latest"
for _ in $(seq 1 100); do [ -f "$spool/ob/failure" ] || break; sleep 0.2; done
[ -f "$spool/ob/failure" ] && fail "the failure is still recorded: $(cat "$spool/ob/failure")"
as_postgres "$OBKEEP_BIN" -r "$repo" -q check >"$TEST_DIR/check.out" 2>&1 || fail "check: $(cat "$TEST_DIR/check.out")"
pass "with the repository back, the spool drains and archiving goes on; check is clean"
