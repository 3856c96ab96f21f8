#!/usr/bin/env bash
# S3 requests in parallel, through tests/servers/faultproxy.py in front of a plain-http Swift:
# with OBKEEP_S3_MULTIPART_MIB=8 (the default, 32, is above a pack), packs above 8 MiB go up
# as multipart uploads (counted in the proxy's log) and restore and
# check --read-data whole; a 503 on an UploadPart is retried; a part that fails for good
# aborts its upload (no object, no unfinished upload left) and the backup fails in seconds
# with one line; a backup killed mid-upload leaves uploads that prune aborts; with 40 ms of
# round trip and 4 MiB/s a connection, a restore with ?connections=8 is faster than with
# ?connections=1.
source "$(dirname "$0")/../lib.sh"
command -v swift-proxy-server >/dev/null || fail "Swift is not installed (scripts/setup.sh installs it)"

servers=$OBKEEP_SOURCE_DIR/tests/servers
s3=$TEST_DIR/s3 proxy=$TEST_DIR/proxy
mkdir -p "$s3"
bash "$servers/s3.sh" start "$s3" http  # plain http: the proxy reads the requests
add_cleanup "bash '$servers/s3.sh' stop '$s3'"
bash "$servers/faultproxy.sh" start "$proxy" "$(cat "$s3/port")" --http
add_cleanup "bash '$servers/faultproxy.sh' stop '$proxy'"
export AWS_ACCESS_KEY_ID=test:tester AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1
unset AWS_DEFAULT_REGION AWS_CA_BUNDLE OBKEEP_S3_CONNECTIONS
export OBKEEP_S3_MULTIPART_MIB=8
endpoint=s3+http://127.0.0.1:$(cat "$proxy/port")
repo=$endpoint/obkeep-parallel/repo
log=$proxy/faultproxy.log

# s3_list objects|uploads: the repository's objects, or its unfinished multipart uploads ("KEY
# UPLOAD_ID"), asked of Swift directly (not through the proxy) by a client of the test's own.
s3_list() { python3 "$OBKEEP_SOURCE_DIR/tests/s3_list.py" "http://127.0.0.1:$(cat "$s3/port")" obkeep-parallel "$1" repo/; }
# log_lines_since LINE PATTERN: how many proxy log lines after line LINE match PATTERN (ERE).
log_lines_since() { tail -n +$(($1 + 1)) "$log" | grep -cE -- "$2" || true; }
log_mark() { wc -l <"$log"; }
count_locks() { "$OBKEEP_BIN" -r "$repo" unlock 2>&1 >/dev/null | grep -c '^lock ' || true; }
expect_ok() { # NAME LIMIT CMD...: runs under a timeout, must succeed
  local name=$1 limit=$2; shift 2
  run_timed "$name" "$limit" "$@"
  [ "$RUN_EXIT" = 0 ] || fail "$name: exit $RUN_EXIT: $(cat "$TEST_DIR/stderr")"
}

src=$TEST_DIR/src
mkdir -p "$src/conf"
for i in $(seq 1 20); do printf '<config id="%d"/>\n' "$i" >"$src/conf/file$i.xml"; done
# 40 MiB of incompressible data: two full 16 MiB packs and a smaller last one.
head -c $((40 * 1024 * 1024)) /dev/urandom >"$src/large.bin"

expect_ok init 60 "$OBKEEP_BIN" -r "$repo" init
mark=$(log_mark)
expect_ok backup 90 "$OBKEEP_BIN" -r "$repo" backup -q "$src"
started=$(log_lines_since "$mark" 'request POST [^ ]*/data/[^ ]*\?uploads= ')
parts=$(log_lines_since "$mark" 'request PUT [^ ]*/data/[^ ]*\?partNumber=[0-9]+&uploadId=')
completed=$(log_lines_since "$mark" 'request POST [^ ]*/data/[^ ]*\?uploadId=')
plain=$(log_lines_since "$mark" 'request PUT [^ ?]*/data/[^ ?]* ')
echo "  backup: $started multipart uploads of $parts parts, $completed completed; $plain packs in one PUT"
[ "$started" -ge 2 ] || fail "want at least 2 multipart uploads for 40 MiB of packs, saw $started"
[ "$completed" = "$started" ] || fail "$started uploads started, $completed completed"
[ "$parts" -ge $((3 * started)) ] || fail "want 3 parts an upload of a 16 MiB pack, saw $parts for $started"
mark=$(log_mark)
expect_ok check-read-data 90 "$OBKEEP_BIN" -r "$repo" check --read-data
pack_gets=$(log_lines_since "$mark" 'request GET [^ ?]*/data/[^ ?]* ')
echo "  check --read-data: $pack_gets ranged GETs of packs"
[ "$pack_gets" -ge $((4 * started)) ] || fail "want 16 MiB packs read as 4 ranges each, saw $pack_gets GETs"
expect_ok restore 90 "$OBKEEP_BIN" -r "$repo" restore latest --target "$TEST_DIR/out1"
[ "$(tree_manifest "$src")" = "$(tree_manifest "$TEST_DIR/out1$src")" ] || fail "restore differs"
pass "40 MiB went up as $started multipart uploads ($parts parts); restored byte for byte, check --read-data read each pack in ranges"

# 503 SlowDown for two UploadPart requests: each part is retried on its own.
head -c $((20 * 1024 * 1024)) /dev/urandom >"$src/slowdown.bin"
mark=$(log_mark)
proxy_ctl "$proxy" http-error 503 2 match=PUT match=partNumber= >/dev/null
expect_ok backup-503 90 "$OBKEEP_BIN" -r "$repo" backup -q "$src"
[ "$(proxy_stat "$proxy" injected_errors)" = 2 ] || fail "want 2 injected errors, $(proxy_stat "$proxy" injected_errors)"
mapfile -t answered < <(tail -n +$((mark + 1)) "$log" | sed -n 's/.* answered \(.*\) with 503$/\1/p')
[ "${#answered[@]}" = 2 ] || fail "the proxy log names ${#answered[@]} answered parts, not 2"
for request in "${answered[@]}"; do
  [ "$(grep -cF "request $request" "$log")" -ge 2 ] || fail "'$request' was answered 503 and never sent again"
done
pass "two UploadParts answered 503 were sent again and the backup succeeded (checked below)"

# 500 on every UploadPart: each upload is aborted, no object and no upload stays behind.
head -c $((20 * 1024 * 1024)) /dev/urandom >"$src/failing.bin"
mark=$(log_mark)
proxy_ctl "$proxy" http-error 500 100000 match=PUT match=partNumber= >/dev/null
run_timed backup-500 90 "$OBKEEP_BIN" -r "$repo" backup -q "$src"
proxy_ctl "$proxy" pass >/dev/null
[ "$RUN_EXIT" != 0 ] || fail "the backup succeeded with every part failing"
expect_seconds_under 30
failed_in=$RUN_SECONDS
expect_one_line_error
echo "  error: $(cat "$TEST_DIR/stderr")"
expect_stderr_matches '^.*cannot save s3\+http://[^ ]*/obkeep-parallel/repo/data/[0-9a-f]{2}/[0-9a-f]{64}: HTTP 500 InternalError \(after 4 attempts\)'
mapfile -t failed_keys < <(tail -n +$((mark + 1)) "$log" | sed -n 's|.* request POST /obkeep-parallel/\([^ ?]*\)?uploads= .*|\1|p' | sort -u)
mapfile -t upload_ids < <(tail -n +$((mark + 1)) "$log" | sed -n 's/.* request PUT [^ ]*uploadId=\([^ &]*\).*/\1/p' | sort -u)
aborts=$(log_lines_since "$mark" 'request DELETE [^ ]*/data/[^ ]*\?uploadId=')
[ "${#failed_keys[@]}" -ge 1 ] && [ "${#upload_ids[@]}" -ge 1 ] || fail "no multipart upload was started"
[ "$aborts" -ge "${#upload_ids[@]}" ] || fail "${#upload_ids[@]} uploads failed, $aborts aborted"
objects=$(s3_list objects)
for key in "${failed_keys[@]}"; do
  ! grep -qxF "$key" <<<"$objects" || fail "the failed upload of $key left an object"
done
uploads=$(s3_list uploads)
for id in "${upload_ids[@]}"; do
  ! grep -qF " $id" <<<"$uploads" || fail "upload $id was not aborted"
done
[ "$(count_locks)" = 0 ] || fail "the failed backup left its lock"
expect_ok backup-after-500 90 "$OBKEEP_BIN" -r "$repo" backup -q "$src"
pass "every part failing: ${#upload_ids[@]} uploads aborted, no object, failed in ${failed_in}s with one line"

# A backup killed mid-upload leaves its multipart uploads; prune aborts them.
head -c $((20 * 1024 * 1024)) /dev/urandom >"$src/killed.bin"
proxy_ctl "$proxy" rate 2048 >/dev/null
mark=$(log_mark)
start_timed backup-killed 90 "$OBKEEP_BIN" -r "$repo" backup -q "$src"
for _ in $(seq 1 300); do
  [ "$(log_lines_since "$mark" 'request PUT [^ ]*partNumber=')" -ge 2 ] && break
  sleep 0.1
done
sleep 1
echo "  killing the backup mid-upload (bash reports the kill)"
kill -KILL "$(timed_pid backup-killed)"
wait "${_timed_pids[backup-killed]}" || true  # not wait_timed: it fails on exit 137, which is expected here
proxy_ctl "$proxy" rate 0 >/dev/null
left=$(s3_list uploads | wc -l)
[ "$left" -ge 1 ] || fail "the killed backup left no upload to clean up (the test did not kill it mid-upload)"
"$OBKEEP_BIN" -r "$repo" unlock -q >/dev/null 2>&1  # the killed backup's lock is stale
expect_ok prune 90 "$OBKEEP_BIN" -r "$repo" prune
[ -z "$(s3_list uploads)" ] || fail "prune left uploads: $(s3_list uploads | head -3)"
expect_ok check-prune 90 "$OBKEEP_BIN" -r "$repo" check --read-data
pass "a backup killed mid-upload left $left unfinished uploads; prune aborted them all"

# Latency: 20 ms each way. A tree of many small files and two larger ones, restored with one
# request in flight and with eight: the restore's workers read batches of small files (and
# the blobs of large ones) side by side, when the connections let them.
rm -f "$src"/*.bin
python3 - "$src/many" <<'PY'
import os, sys
root = sys.argv[1]
for d in range(3):
    os.makedirs("%s/d%02d" % (root, d))
    for f in range(400):
        with open("%s/d%02d/f%03d" % (root, d, f), "wb") as out:
            out.write(os.urandom(4096))
for f in range(6):
    with open("%s/large%d" % (root, f), "wb") as out:
        out.write(os.urandom(4 * 1024 * 1024))
PY
latency_repo=$endpoint/obkeep-parallel/latency
expect_ok latency-init 60 "$OBKEEP_BIN" -r "$latency_repo" init
expect_ok latency-backup 90 "$OBKEEP_BIN" -r "$latency_repo" backup -q "$src/many"
# A WAN caps what one connection carries (its TCP window over the round trip): 4 MiB/s here.
proxy_ctl "$proxy" delay 20 >/dev/null
proxy_ctl "$proxy" rate 4096 >/dev/null
mark=$(log_mark)
expect_ok restore-1 90 "$OBKEEP_BIN" -r "$latency_repo?connections=1" restore latest --target "$TEST_DIR/out-1"
one=$RUN_SECONDS
requests=$(log_lines_since "$mark" ' request ')
echo "  restore: $requests requests ($(log_lines_since "$mark" ' request GET [^ ?]*/data/')" \
  "of packs, $(log_lines_since "$mark" ' request GET [^ ?]*/(index|snapshots)/') of index files and snapshots)"
expect_ok restore-8 90 "$OBKEEP_BIN" -r "$latency_repo?connections=8" restore latest --target "$TEST_DIR/out-8"
eight=$RUN_SECONDS
proxy_ctl "$proxy" delay 0 >/dev/null
proxy_ctl "$proxy" rate 0 >/dev/null
[ "$(tree_manifest "$src/many")" = "$(tree_manifest "$TEST_DIR/out-8$src/many")" ] || fail "restore with 8 connections differs"
[ "$(tree_manifest "$src/many")" = "$(tree_manifest "$TEST_DIR/out-1$src/many")" ] || fail "restore with 1 connection differs"
ratio=$(python3 -c "print('%.2f' % ($one / $eight))")
echo "  restore over 40 ms RTT: ${one}s with connections=1, ${eight}s with connections=8 (${ratio}x)"
python3 -c "import sys; sys.exit(0 if $one >= 1.5 * $eight else 1)" ||
  fail "connections=8 restored in ${eight}s, connections=1 in ${one}s: want at least 1.5x faster"
pass "over 40 ms RTT, connections=8 restores ${ratio}x faster than connections=1 (${one}s vs ${eight}s)"
