#!/usr/bin/env bash
# MariaDB point in time: `binlog-archive` streams the binary log into the repository while
# an invariant-keeping load runs; a restore --until a time between two commits has the
# first and not the second, with every invariant intact; the archiver killed and restarted
# mid-load leaves no gap (a restore to the end equals the source); SIGTERM stops it at once
# with nothing left locked; copy takes the archive to a DR site, where a restore --until
# works too; a binlog purged before it was archived is a gap that status and check report,
# and a --until across it is refused naming the newest reachable time; retention removes
# pieces (and the gap with them) outside the window. The pieces are archive entries
# (archive-ls), found by name. A backup records the GTID position at its binlog coordinates,
# with the global read lock and without it (no RELOAD grant).
source "$(dirname "$0")/../lib.sh"
start_mariadb
data=$OBKEEP_SOURCE_DIR/tests/db/ob_data.py
sql -e "CREATE DATABASE openbank_openbankingdb"
python3 "$data" schema mariadb | sql openbank_openbankingdb
python3 "$data" data mariadb 500 1 | sql openbank_openbankingdb
sql openbank_openbankingdb -e "CREATE TABLE PITR_MARK (NAME VARCHAR(16) PRIMARY KEY)"
home=$TEST_DIR/wso2-obam-1.5.0
write_home "$home" "$(datasource WSO2_OPEN_BANKING_DB "jdbc:mysql://127.0.0.1:$port/openbank_openbankingdb" obkeep "$password")"
deployment_config "$home"
config=$TEST_DIR/obkeep.toml
printf '[policy.databases]\nrpo = "1h"\n' >>"$config"

archiver=""
start_archiver() {
  setsid "$OBKEEP_BIN" binlog-archive --config "$config" --database WSO2_OPEN_BANKING_DB --piece-seconds 1 \
    --confirm-every 1 >>"$TEST_DIR/archiver.out" 2>>"$TEST_DIR/archiver.err" &
  archiver=$!
  add_cleanup "kill -9 $archiver 2>/dev/null"
}
pieces() { obkeep -r "$TEST_DIR/repo" archive-ls --kind binlog --json | python3 -c "import json,sys; print(len(json.load(sys.stdin)))"; }
wait_pieces() { # N: until the archive holds more than N pieces
  for _ in $(seq 1 100); do [ "$(pieces)" -gt "$1" ] && return 0; sleep 0.2; done
  fail "the archive stayed at $1 pieces; archiver: $(cat "$TEST_DIR/archiver.err")"
}
now() { date -u +%Y-%m-%dT%H:%M:%S.%3NZ; }
wait_archived_through() { # TIME: until a piece's recovery point reaches TIME
  local want
  want=$(date -d "$1" +%s%N)
  for _ in $(seq 1 100); do
    obkeep -r "$TEST_DIR/repo" archive-ls --kind binlog --json |
      python3 -c "import json,sys; sys.exit(max(e['meta']['binlog']['recovery_point_ns'] for e in json.load(sys.stdin)) < $want)" &&
      return 0
    sleep 0.2
  done
  fail "the archive did not reach $1; archiver: $(cat "$TEST_DIR/archiver.err")"
}

# 1. The archiver runs while a load writes; a backup is taken under the load.
start_archiver
wait_pieces 0
setsid bash -c "python3 '$data' load mariadb 11 | mariadb --no-defaults -h127.0.0.1 -P$port -uobkeep -p$password openbank_openbankingdb" >/dev/null 2>&1 &
load=$!
add_cleanup "kill -- -$load 2>/dev/null"
count() { sql -N openbank_openbankingdb -e "SELECT COUNT(*) FROM UK_ACCOUNT_INITIATION"; }
wait_for_growth "$(count)" count >/dev/null
obkeep backup --config "$config" --set databases >/dev/null
backed_up=$(count)
# expect_recorded_gtid REPO CONSISTENCY: the newest logical backup in REPO was taken as
# CONSISTENCY says (a glob of its summary's words) and records, as its GTID position, the
# server's at its binlog coordinates.
expect_recorded_gtid() {
  local file position gtid consistency want
  read -r file position gtid consistency < <(obkeep -r "$1" snapshots --json | python3 -c "
import json, sys
s = [s for s in json.load(sys.stdin) if 'engine=mysql' in s.get('tags', [])][-1]['summary']
b = s['binlog']
print(b['file'], b['position'], b.get('gtid', 'none'), s['consistency'].replace(' ', '_'))")
  # shellcheck disable=SC2053  # a glob on purpose
  [[ "$consistency" == $2 ]] || fail "$1: the backup was taken as $consistency, want $2"
  want=$(sql -N -e "SELECT BINLOG_GTID_POS('$file', $position)")
  [ "$gtid" = "$want" ] && [[ "$gtid" =~ ^[0-9]+-[0-9]+-[0-9]+ ]] ||
    fail "$1: the backup records GTID position '$gtid' at $file:$position, the server says '$want'"
}
expect_recorded_gtid "$TEST_DIR/repo" "*FLUSH_TABLES_WITH_READ_LOCK*"
# Without the RELOAD grant (no global read lock): one worker's consistent snapshot, its
# binlog coordinates from the transaction, its GTID position asked while it dumps.
sql -e "CREATE USER 'nolock'@'127.0.0.1' IDENTIFIED BY 'nolock-pw';
  GRANT SELECT, SHOW VIEW ON openbank_openbankingdb.* TO 'nolock'@'127.0.0.1'"
home_nolock=$TEST_DIR/wso2-obam-nolock
write_home "$home_nolock" "$(datasource WSO2_OPEN_BANKING_DB "jdbc:mysql://127.0.0.1:$port/openbank_openbankingdb" nolock nolock-pw)"
printf '[repository]\nurl = "%s"\n[deployment]\nhomes = ["%s"]\n' "$TEST_DIR/repo-nolock" "$home_nolock" >"$TEST_DIR/nolock.toml"
obkeep -r "$TEST_DIR/repo-nolock" init >/dev/null
obkeep backup --config "$TEST_DIR/nolock.toml" --set databases >/dev/null
expect_recorded_gtid "$TEST_DIR/repo-nolock" "*one_worker*"
obkeep base-backup --config "$config" --database WSO2_OPEN_BANKING_DB >/dev/null

# 2. Two commits a few seconds apart, T between them (the count a second after T bounds
# what a restore to T may hold); the archiver is killed and started again between them,
# mid-load.
sleep 1.2
first_gtid=$(sql -N openbank_openbankingdb -e "INSERT INTO PITR_MARK VALUES ('first'); SELECT @@last_gtid")
[[ "$first_gtid" =~ ^[0-9]+-[0-9]+-[0-9]+$ ]] || fail "no GTID for the first mark: '$first_gtid'"
sleep 1.2
until_time=$(now)
sleep 1.1   # binlog times are whole seconds: the rest of T's second is replayed too
at_until=$(count)
kill -9 $archiver
sleep 1.2
sql openbank_openbankingdb -e "INSERT INTO PITR_MARK VALUES ('second')"
start_archiver
sleep 1
kill -- -$load; wait $load 2>/dev/null || true
final=$(count)
end_time=$(now)
wait_archived_through "$end_time"
pass "binlog-archive streamed under load, was killed and restarted ($(pieces) pieces)"

# 3. Restore --until T: the first mark, not the second; the invariants hold.
run_timed pitr 120 "$OBKEEP_BIN" restore-db latest --config "$config" --database WSO2_OPEN_BANKING_DB \
  --to "jdbc:mysql://127.0.0.1:$port/restored_until" --until "$until_time"
[ "$RUN_EXIT" = 0 ] || fail "restore --until failed: $(cat "$TEST_DIR/stderr")"
grep -q "replayed the archived binlog from binlog" "$TEST_DIR/pitr.stdout" || fail "no replay reported: $(cat "$TEST_DIR/pitr.stdout")"
marks=$(sql -N restored_until -e "SELECT GROUP_CONCAT(NAME ORDER BY NAME) FROM PITR_MARK")
[ "$marks" = first ] || fail "restored --until $until_time holds marks '$marks', expected 'first'"
restored=$(sql -N restored_until -e "SELECT COUNT(*) FROM UK_ACCOUNT_INITIATION")
[ "$backed_up" -lt "$restored" ] && [ "$restored" -le "$at_until" ] ||
  fail "restored --until holds $restored consents; backup had $backed_up, the source $at_until a second after $until_time"
expect_invariants sql restored_until
pass "restore --until $until_time: backup ($backed_up consents) + binlog = $restored consents, 'first' without 'second', invariants hold"

# 3b. The same by the physical path: the mariadb-backup copy, prepared, the binlog replayed
# into it on a private server; a server started on the directory has the same marks.
run_timed pitr_physical 180 "$OBKEEP_BIN" restore-db latest --config "$config" --database WSO2_OPEN_BANKING_DB \
  --to-datadir "$TEST_DIR/physical" --until "$until_time"
[ "$RUN_EXIT" = 0 ] || fail "restore --to-datadir --until failed: $(cat "$TEST_DIR/stderr")"
grep -q "replayed the archived binlog from binlog" "$TEST_DIR/pitr_physical.stdout" || fail "$(cat "$TEST_DIR/pitr_physical.stdout")"
grep -q "^path: physical: mariadb-backup .* before the target" "$TEST_DIR/pitr_physical.stdout" ||
  fail "restore-db does not say it took the physical path: $(cat "$TEST_DIR/pitr_physical.stdout")"
ls /tmp | grep -q "^obkeep-mariadb-" && fail "the private server's directory was left in /tmp"
start_mariadb_on "$TEST_DIR/physical"
[ "$(rsql -N openbank_openbankingdb -e "SELECT GROUP_CONCAT(NAME ORDER BY NAME) FROM PITR_MARK")" = first ] || fail "physical --until: marks"
physical=$(rsql -N openbank_openbankingdb -e "SELECT COUNT(*) FROM UK_ACCOUNT_INITIATION")
[ "$physical" = "$restored" ] || fail "physical --until holds $physical consents, logical --until $restored"
expect_invariants rsql openbank_openbankingdb
pass "restore --to-datadir --until: the physical copy + binlog holds what the logical path holds ($physical consents, 'first')"

# 3c. Through a transaction by its GTID, while the load ran in the same domain: the first
# mark is there, the second not, the invariants hold; a GTID the archive never reached, or
# --until with --until-gtid, is refused.
run_timed pitr_gtid 120 "$OBKEEP_BIN" restore-db latest --config "$config" --database WSO2_OPEN_BANKING_DB \
  --to "jdbc:mysql://127.0.0.1:$port/restored_gtid" --until-gtid "$first_gtid"
[ "$RUN_EXIT" = 0 ] || fail "restore --until-gtid failed: $(cat "$TEST_DIR/stderr")"
grep -q "up to GTID $first_gtid" "$TEST_DIR/pitr_gtid.stdout" || fail "no GTID replay reported: $(cat "$TEST_DIR/pitr_gtid.stdout")"
[ "$(sql -N restored_gtid -e "SELECT GROUP_CONCAT(NAME ORDER BY NAME) FROM PITR_MARK")" = first ] || fail "--until-gtid: marks"
by_gtid=$(sql -N restored_gtid -e "SELECT COUNT(*) FROM UK_ACCOUNT_INITIATION")
[ "$backed_up" -lt "$by_gtid" ] && [ "$by_gtid" -le "$restored" ] ||
  fail "restored --until-gtid holds $by_gtid consents; backup had $backed_up, --until (later) $restored"
expect_invariants sql restored_gtid
run_timed pitr_gtid_physical 180 "$OBKEEP_BIN" restore-db latest --config "$config" --database WSO2_OPEN_BANKING_DB \
  --to-datadir "$TEST_DIR/physical_gtid" --until-gtid "$first_gtid"
[ "$RUN_EXIT" = 0 ] || fail "restore --to-datadir --until-gtid failed: $(cat "$TEST_DIR/stderr")"
start_mariadb_on "$TEST_DIR/physical_gtid"
[ "$(rsql -N openbank_openbankingdb -e "SELECT GROUP_CONCAT(NAME ORDER BY NAME) FROM PITR_MARK")" = first ] || fail "physical --until-gtid: marks"
[ "$(rsql -N openbank_openbankingdb -e "SELECT COUNT(*) FROM UK_ACCOUNT_INITIATION")" = "$by_gtid" ] ||
  fail "physical --until-gtid holds $(rsql -N openbank_openbankingdb -e "SELECT COUNT(*) FROM UK_ACCOUNT_INITIATION") consents, logical $by_gtid"
domain=${first_gtid%%-*}
expect_exit 1 obkeep restore-db latest --config "$config" --database WSO2_OPEN_BANKING_DB \
  --to "jdbc:mysql://127.0.0.1:$port/restored_never" --until-gtid "$domain-1-999999999"
expect_stderr_matches "reaches only GTID $domain-[0-9]+-[0-9]+, before the GTID asked for"
expect_one_line_error
expect_exit 2 obkeep restore-db latest --config "$config" --database WSO2_OPEN_BANKING_DB \
  --to "jdbc:mysql://127.0.0.1:$port/restored_never" --until-gtid "$first_gtid" --until "$until_time"
expect_exit 2 obkeep restore-db latest --config "$config" --database WSO2_OPEN_BANKING_DB \
  --to "jdbc:mysql://127.0.0.1:$port/restored_never" --until-gtid "first"
expect_stderr_matches "--until-gtid: not a GTID: first"
[ -z "$(sql -N -e "SHOW DATABASES LIKE 'restored_never'")" ] || fail "a refused restore created its target"
pass "restore --until-gtid $first_gtid, logical and physical: $by_gtid consents, 'first' without 'second', invariants hold; bad GTIDs refused"

# 4. Restore to now: across the kill and restart, nothing is missing.
obkeep restore-db latest --config "$config" --database WSO2_OPEN_BANKING_DB \
  --to "jdbc:mysql://127.0.0.1:$port/restored_end" --until "$end_time" >/dev/null
mariadb_fingerprint openbank_openbankingdb >"$TEST_DIR/want"
mariadb_fingerprint restored_end >"$TEST_DIR/got"
diff "$TEST_DIR/want" "$TEST_DIR/got" >/dev/null || fail "restored to the end differs from the source ($final consents)"
[ "$(sql -N restored_end -e "SELECT GROUP_CONCAT(NAME ORDER BY NAME) FROM PITR_MARK")" = "first,second" ] || fail "marks missing"
obkeep status --config "$config" --json >"$TEST_DIR/status.json" || fail "status: exit $?"
python3 - "$TEST_DIR/status.json" "$(date -d "$end_time" +%s)" <<'PY' || fail "status does not count the binlog archive: $(cat "$TEST_DIR/status.json")"
import json, sys, datetime
point = json.load(open(sys.argv[1]))["objectives"][0]["newest_recovery_point"]
seconds = datetime.datetime.fromisoformat(point.replace("Z", "+00:00")).timestamp()
sys.exit(seconds < int(sys.argv[2]))
PY
pass "restore --until the end equals the source: no gap across the archiver's kill and restart; status's recovery point is the archive's"

# 4b. A DR site: copy takes the binlog archive with the backups; restored from the site
# --until the end, the database equals the source.
printf 'dr-password\n' >"$TEST_DIR/dr1.pw"
OBKEEP_FROM_PASSWORD=$OBKEEP_PASSWORD OBKEEP_PASSWORD=dr-password \
  obkeep -r "$TEST_DIR/dr1" init --copy-params-from "$TEST_DIR/repo" >/dev/null
printf '[[dr_site]]\nname = "dr1"\nurl = "%s"\npassword_file = "%s"\nsets = ["databases"]\n' "$TEST_DIR/dr1" "$TEST_DIR/dr1.pw" >>"$config"
primary_pieces=$(pieces)
obkeep copy --config "$config" >/dev/null || fail "copy to the DR site failed"
site_pieces=$(OBKEEP_PASSWORD=dr-password obkeep -r "$TEST_DIR/dr1" archive-ls --kind binlog --json |
  python3 -c "import json,sys; print(len(json.load(sys.stdin)))")
[ "$site_pieces" -ge "$primary_pieces" ] || fail "the DR site holds $site_pieces binlog pieces, the primary had $primary_pieces"
obkeep restore-db latest --config "$config" --site dr1 --database WSO2_OPEN_BANKING_DB \
  --to "jdbc:mysql://127.0.0.1:$port/restored_site" --until "$end_time" >/dev/null || fail "restore --until from the DR site failed"
mariadb_fingerprint restored_site >"$TEST_DIR/got_site"
diff "$TEST_DIR/want" "$TEST_DIR/got_site" >/dev/null || fail "restored from the DR site to the end differs from the source"
pass "copy takes the binlog archive to a DR site ($site_pieces pieces); restored from it --until the end equals the source"

# 5. SIGTERM: exits 0 within seconds, its lock gone (an exclusive lock can be taken).
start_timed stop 30 bash -c "kill -TERM $archiver; while kill -0 $archiver 2>/dev/null; do sleep 0.1; done"
wait_timed stop
awk -v s="$RUN_SECONDS" 'BEGIN { exit !(s < 5) }' || fail "SIGTERM took ${RUN_SECONDS}s"
obkeep -r "$TEST_DIR/repo" prune >/dev/null || fail "prune (an exclusive lock) failed after the archiver stopped"
pass "SIGTERM stops the archiver in ${RUN_SECONDS}s with no lock left behind"

# 6. A binlog purged before it was archived: a gap, reported; --until across it refused.
sql openbank_openbankingdb -e "INSERT INTO PITR_MARK VALUES ('lost')"
sql -e "FLUSH BINARY LOGS"
sql openbank_openbankingdb -e "INSERT INTO PITR_MARK VALUES ('after')"
current=$(sql -N -e "SHOW MASTER STATUS" | cut -f1)
# A file stays until InnoDB's binlog checkpoint has moved past it: purge until it is gone.
for _ in $(seq 1 50); do
  sql -e "PURGE BINARY LOGS TO '$current'" 2>/dev/null
  [ "$(sql -N -e "SHOW BINARY LOGS" | head -1 | cut -f1)" = "$current" ] && break
  sleep 0.2
done
[ "$(sql -N -e "SHOW BINARY LOGS" | head -1 | cut -f1)" = "$current" ] || fail "the old binlogs could not be purged"
start_timed gap 60 "$OBKEEP_BIN" binlog-archive --config "$config" --database WSO2_OPEN_BANKING_DB --piece-seconds 1 \
  --confirm-every 1 --stop-after 2
wait_timed gap
[ "$RUN_EXIT" = 0 ] || fail "binlog-archive after a purge: exit $RUN_EXIT: $(cat "$TEST_DIR/stderr")"
expect_stderr_matches "was purged from the server before it was archived"
expect_exit 0 obkeep check --config "$config"
expect_stderr_matches "binlog archive of WSO2_OPEN_BANKING_DB has a gap .*purged"
obkeep status --config "$config" --json >"$TEST_DIR/status.json" 2>/dev/null || true
grep -q "has a gap" "$TEST_DIR/status.json" || fail "status does not report the gap: $(cat "$TEST_DIR/status.json")"
expect_exit 1 obkeep restore-db latest --config "$config" --database WSO2_OPEN_BANKING_DB \
  --to "jdbc:mysql://127.0.0.1:$port/restored_gap" --until "$(now)"
expect_stderr_matches "has a gap after .*newest reachable point from this backup is"
expect_one_line_error
pass "a purged binlog is a gap: reported by binlog-archive, check and status; --until across it refused"

# 7. The daemon runs the archiver when [policy.databases] sets pitr = true, starts it
# again when it dies, and stops it when the daemon stops.
sed -i 's/^rpo = "1h"$/rpo = "1h"\npitr = true/' "$config"
setsid "$OBKEEP_BIN" daemon --config "$config" >"$TEST_DIR/daemon.log" 2>&1 &
daemon=$!
add_cleanup "kill -9 $daemon 2>/dev/null"
child() { sed -n 's/.*archiver=WSO2_OPEN_BANKING_DB started=\([0-9]*\).*/\1/p' "$TEST_DIR/daemon.log" | tail -1; }
for _ in $(seq 1 50); do [ -n "$(child)" ] && break; sleep 0.2; done
first_child=$(child)
[ -n "$first_child" ] || fail "the daemon started no archiver: $(cat "$TEST_DIR/daemon.log")"
kill -9 "$first_child"
for _ in $(seq 1 50); do [ "$(child)" != "$first_child" ] && break; sleep 0.2; done
[ "$(child)" != "$first_child" ] || fail "the daemon did not start the archiver again: $(cat "$TEST_DIR/daemon.log")"
sql openbank_openbankingdb -e "INSERT INTO PITR_MARK VALUES ('daemon')"
wait_archived_through "$(now)"
start_timed daemon_stop 40 bash -c "kill -TERM $daemon; while kill -0 $daemon 2>/dev/null; do sleep 0.1; done"
wait_timed daemon_stop
kill -0 "$(child)" 2>/dev/null && fail "the archiver outlived the daemon"
grep -q "archiver=WSO2_OPEN_BANKING_DB stopped=\"exit 0\"" "$TEST_DIR/daemon.log" || fail "no clean stop logged: $(cat "$TEST_DIR/daemon.log")"
pass "the daemon runs binlog-archive for pitr = true, restarts it when killed, stops it with itself (${RUN_SECONDS}s)"

# 8. Retention with a point-in-time window: keep_last = 1 and pitr_window forget the old
# backups and the archive pieces before the kept backup's binlog file (the gap of step 6
# with them); a point after the kept backup still restores, one before it is refused naming
# the oldest kept.
obkeep backup --config "$config" --set databases >/dev/null
sleep 2
sed -i 's/^pitr = true$/pitr = true\nkeep_last = 1\npitr_window = "1s"/' "$config"
pieces_before=$(pieces)
obkeep forget --config "$config" --prune >/dev/null || fail "forget by policy failed"
pieces_after=$(pieces)
[ "$pieces_after" -lt "$pieces_before" ] && [ "$pieces_after" -gt 0 ] ||
  fail "forget left $pieces_after of $pieces_before binlog pieces"
[ "$(obkeep -r "$TEST_DIR/repo" snapshots --tag set=databases --json | python3 -c "import json,sys; print(len(json.load(sys.stdin)))")" = 1 ] ||
  fail "keep_last = 1 kept more than one backup"
obkeep check --config "$config" >/dev/null 2>&1 || fail "check after forget and prune: $(obkeep check --config "$config" 2>&1 | tail -2)"
# Every piece before the gap is gone: neither check nor status reports the gap any more.
obkeep check --config "$config" 2>&1 | grep -q "has a gap" && fail "check still reports a gap no kept backup meets"
obkeep status --config "$config" --json 2>/dev/null | grep -q "has a gap" && fail "status still reports a gap no kept backup meets"
sql openbank_openbankingdb -e "INSERT INTO PITR_MARK VALUES ('kept')"
kept_time=$(now)
start_archiver
wait_archived_through "$kept_time"
kill -TERM $archiver; wait $archiver 2>/dev/null || true
obkeep restore-db latest --config "$config" --database WSO2_OPEN_BANKING_DB \
  --to "jdbc:mysql://127.0.0.1:$port/restored_kept" --until "$kept_time" >/dev/null || fail "restore inside the window failed"
sql -N restored_kept -e "SELECT NAME FROM PITR_MARK" | grep -qx kept || fail "the point inside the window lacks its mark"
expect_exit 1 obkeep restore-db latest --config "$config" --database WSO2_OPEN_BANKING_DB \
  --to "jdbc:mysql://127.0.0.1:$port/restored_old" --until "$until_time"
expect_stderr_matches "no backup of WSO2_OPEN_BANKING_DB taken before .*: the oldest kept is of "
expect_one_line_error
pass "keep_last and pitr_window forget old backups and $((pieces_before - pieces_after)) archive pieces; inside the window restores, before it is refused"
