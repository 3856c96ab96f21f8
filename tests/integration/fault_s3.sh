#!/usr/bin/env bash
# S3 faults, injected by tests/servers/faultproxy.py between obkeep and a plain-http Swift:
# 503s for a few requests and connections reset on connect are retried and the backup
# succeeds; 500s beyond the retry budget fail the backup in bounded time with one line
# naming the object, its lock removed, the repository clean and the next backup whole; a connection cut once mid-upload (by byte
# count, and all at once while a backup runs) is retried; cut on every attempt, or the store
# killed mid-transfer, the backup fails cleanly and the next one is whole; SIGTERM while
# the network is silent ends the backup in seconds. Every run is under `timeout`, so a hang
# fails the test.
source "$(dirname "$0")/../lib.sh"
command -v swift-proxy-server >/dev/null || fail "Swift is not installed (scripts/setup.sh installs it)"

servers=$OBKEEP_SOURCE_DIR/tests/servers
s3=$TEST_DIR/s3 proxy=$TEST_DIR/proxy
mkdir -p "$s3"
bash "$servers/s3.sh" start "$s3" http  # plain http: the proxy reads and answers requests
add_cleanup "bash '$servers/s3.sh' stop '$s3'"
bash "$servers/faultproxy.sh" start "$proxy" "$(cat "$s3/port")" --http --delay-ms 2
add_cleanup "bash '$servers/faultproxy.sh' stop '$proxy'"
export AWS_ACCESS_KEY_ID=test:tester AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1
unset AWS_DEFAULT_REGION AWS_CA_BUNDLE
repo=s3+http://127.0.0.1:$(cat "$proxy/port")/obkeep-fault/repo

src=$TEST_DIR/src
mkdir -p "$src/conf"
for i in $(seq 1 20); do printf '<config id="%d"/>\n' "$i" >"$src/conf/file$i.xml"; done
# new_data NAME MIB: more random data, so the next backup has packs to upload.
new_data() { head -c $(($2 * 1024 * 1024)) /dev/urandom >"$src/$1"; }
# Locks the repository holds now, as `unlock` lists them (it removes only stale ones).
count_locks() { "$OBKEEP_BIN" -r "$repo" unlock 2>&1 >/dev/null | grep -c '^lock ' || true; }
expect_clean_check() {
  run_timed check 120 "$OBKEEP_BIN" -r "$repo" check
  [ "$RUN_EXIT" = 0 ] || fail "check after $1: exit $RUN_EXIT: $(cat "$TEST_DIR/stderr")"
}
expect_backup() {
  run_timed backup 120 "$OBKEEP_BIN" -r "$repo" backup -q "$src"
  [ "$RUN_EXIT" = 0 ] || fail "backup $1: exit $RUN_EXIT: $(cat "$TEST_DIR/stderr")"
}
# A failed run: non-zero, in bounded time, one line on stderr.
expect_clean_failure() {
  [ "$RUN_EXIT" != 0 ] || fail "$1: the backup succeeded"
  expect_seconds_under 60
  expect_one_line_error
  echo "  error: $(cat "$TEST_DIR/stderr")"
}

run_timed init 60 "$OBKEEP_BIN" -r "$repo" init
[ "$RUN_EXIT" = 0 ] || fail "init through the proxy: $(cat "$TEST_DIR/stderr")"
new_data first.bin 4
expect_backup "through the proxy"
pass "init and backup through the fault proxy"

# 503 SlowDown for the next three pack uploads: retried with backoff, the backup succeeds.
new_data slowdown.bin 12
proxy_ctl "$proxy" http-error 503 3 match=PUT match=/data/ >/dev/null
expect_backup "with three 503s"
[ "$(proxy_stat "$proxy" injected_errors)" = 3 ] || fail "want 3 injected errors, $(proxy_stat "$proxy" injected_errors)"
mapfile -t answered < <(sed -n 's/.* answered \(.*\) with 503$/\1/p' "$proxy/faultproxy.log")
[ "${#answered[@]}" = 3 ] || fail "the proxy log names ${#answered[@]} answered requests, not 3"
for request in "${answered[@]}"; do
  sent=$(grep -cF "request $request" "$proxy/faultproxy.log")
  [ "$sent" -ge 2 ] || fail "'$request' was answered 503 and never sent again"
done
expect_clean_check "three 503s"
pass "three 503 SlowDown answers to pack uploads were retried (${answered[0]%% HTTP*}...)"

# The next two connections reset right after they are accepted: retried, the backup whole.
new_data refused.bin 2
proxy_ctl "$proxy" refuse 2 >/dev/null
expect_backup "with two connections refused"
[ "$(proxy_stat "$proxy" refused)" = 2 ] || fail "want 2 refused connections, $(proxy_stat "$proxy" refused)"
pass "two connections reset on connect were retried"

# 500 InternalError on every pack upload, beyond the retry budget: a bounded failure.
new_data internal.bin 8
proxy_ctl "$proxy" http-error 500 100000 match=PUT match=/data/ >/dev/null
run_timed backup-500 90 "$OBKEEP_BIN" -r "$repo" backup -q "$src"
proxy_ctl "$proxy" pass >/dev/null
expect_clean_failure "500 on every pack upload"
failed_in=$RUN_SECONDS
expect_stderr_matches 'data/[0-9a-f]{2}/[0-9a-f]{64}: HTTP 500 InternalError \(after 4 attempts\)'
[ "$(count_locks)" = 0 ] || fail "the failed backup left its lock: $("$OBKEEP_BIN" -r "$repo" unlock 2>&1)"
expect_clean_check "500s"
expect_backup "after the 500s"
pass "500s beyond the retry budget: failed in ${failed_in}s with one line, no lock left, next backup whole"

# One connection cut after 3 MB of a pack upload: the upload is sent again, the backup whole.
new_data cut-once.bin 20
proxy_ctl "$proxy" cut-after-bytes 3000000 1 >/dev/null
cuts=$(proxy_stat "$proxy" cut)
expect_backup "with one connection cut"
proxy_ctl "$proxy" pass >/dev/null
[ "$(proxy_stat "$proxy" cut)" = $((cuts + 1)) ] || fail "the proxy did not cut one connection"
expect_clean_check "a cut connection"
pass "a connection cut after 3 MB of an upload: retried, backup whole"

# Every connection cut at once while a 20 MB backup uploads (slowed to 4 MiB/s a connection).
new_data cut-live.bin 20
proxy_ctl "$proxy" rate 4096 >/dev/null
up=$(proxy_stat "$proxy" bytes_up)
start_timed backup-cut 120 "$OBKEEP_BIN" -r "$repo" backup -q "$src"
wait_for_growth $((up + 4000000)) proxy_stat "$proxy" bytes_up >/dev/null
proxy_ctl "$proxy" cut >/dev/null
wait_timed backup-cut
proxy_ctl "$proxy" rate 0 >/dev/null
[ "$RUN_EXIT" = 0 ] || fail "a backup whose connections were cut once: exit $RUN_EXIT: $(cat "$TEST_DIR/stderr")"
expect_clean_check "cut connections"
pass "all connections cut once during a 20 MB backup: retried, backup whole"

# Every connection cut after 3 MB, on every attempt: a bounded failure naming the object.
new_data cut-always.bin 20
proxy_ctl "$proxy" cut-after-bytes 3000000 >/dev/null
run_timed backup-cut-always 90 "$OBKEEP_BIN" -r "$repo" backup -q "$src"
proxy_ctl "$proxy" pass >/dev/null
expect_clean_failure "every connection cut after 3 MB"
expect_stderr_matches 'PUT [^ ]*data/[0-9a-f]{2}/[0-9a-f]{64} after 4 attempts: .*(reset|Recv|Send)'
failed_in=$RUN_SECONDS
[ "$(count_locks)" = 0 ] || fail "the failed backup left its lock: $("$OBKEEP_BIN" -r "$repo" unlock 2>&1)"
expect_clean_check "connections always cut"
expect_backup "after connections were always cut"
pass "connections cut on every attempt: failed in ${failed_in}s with one line, no lock left, next backup whole"

# The network goes silent mid-upload and SIGTERM arrives: the stalled request stops at once
# (not after its one-minute stall timeout, four times), the lock removal gets one short
# attempt, and the backup exits 130 within seconds.
new_data stalled.bin 20
proxy_ctl "$proxy" rate 4096 >/dev/null
up=$(proxy_stat "$proxy" bytes_up)
start_timed backup-stalled 120 "$OBKEEP_BIN" -r "$repo" backup -q "$src"
wait_for_growth $((up + 4000000)) proxy_stat "$proxy" bytes_up >/dev/null
proxy_ctl "$proxy" stall >/dev/null
sleep 2
signalled=$(date +%s%N)
kill -TERM "$(timed_pid backup-stalled)"
wait_timed backup-stalled
after_signal=$(( ($(date +%s%N) - signalled) / 1000000 ))
proxy_ctl "$proxy" pass >/dev/null
proxy_ctl "$proxy" rate 0 >/dev/null
echo "  exited $((after_signal / 1000)).$((after_signal % 1000 / 100))s after SIGTERM: $(cat "$TEST_DIR/stderr")"
[ "$RUN_EXIT" = 130 ] || fail "SIGTERM during a stalled upload: exit $RUN_EXIT, want 130: $(cat "$TEST_DIR/stderr")"
[ "$after_signal" -lt 20000 ] || fail "SIGTERM during a stalled upload took ${after_signal} ms to end the backup"
"$OBKEEP_BIN" -r "$repo" unlock -q >/dev/null 2>&1  # the lock removal may have stalled: stale now
[ "$(count_locks)" = 0 ] || fail "locks left after unlock: $("$OBKEEP_BIN" -r "$repo" unlock 2>&1)"
expect_clean_check "a stalled, interrupted backup"
pass "SIGTERM while the network is silent: exit 130 in $((after_signal / 1000)).$((after_signal % 1000 / 100))s, repository clean"

# The store killed mid-transfer: a bounded failure; restarted, the next backup is whole.
new_data killed.bin 20
proxy_ctl "$proxy" rate 4096 >/dev/null
up=$(proxy_stat "$proxy" bytes_up)
start_timed backup-killed 120 "$OBKEEP_BIN" -r "$repo" backup -q "$src"
wait_for_growth $((up + 4000000)) proxy_stat "$proxy" bytes_up >/dev/null
for pidfile in "$s3"/swift/*.pid; do kill -9 "$(cat "$pidfile")"; done
wait_timed backup-killed
proxy_ctl "$proxy" rate 0 >/dev/null
expect_clean_failure "the store killed"
failed_in=$RUN_SECONDS
bash "$servers/s3.sh" restart "$s3"
# The lock it could not remove: stale now.
"$OBKEEP_BIN" -r "$repo" unlock -q >"$TEST_DIR/unlock.out" 2>&1 || fail "unlock after the restart: $(cat "$TEST_DIR/unlock.out")"
[ "$(count_locks)" = 0 ] || fail "locks left after unlock: $("$OBKEEP_BIN" -r "$repo" unlock 2>&1)"
expect_clean_check "the store killed"
expect_backup "after the store restarted"
expect_clean_check "the store restarted"
run_timed restore 120 "$OBKEEP_BIN" -r "$repo" restore latest --target "$TEST_DIR/out"
[ "$RUN_EXIT" = 0 ] || fail "restore: $(cat "$TEST_DIR/stderr")"
[ "$(tree_manifest "$src")" = "$(tree_manifest "$TEST_DIR/out$src")" ] || fail "restore after the faults differs"
pass "the store killed mid-transfer: failed in ${failed_in}s with one line; restarted, backup and restore whole"
