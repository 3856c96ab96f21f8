#!/usr/bin/env bash
# Bandwidth limits hold within 10%: a backup with --limit-upload, a restore with
# --limit-download and a copy to a DR site with its limit_upload each take the time their
# bytes need at the limit; the command line overrides the site's limit; OBKEEP_LIMIT_UPLOAD
# works and SIGINT stops a limited backup at once; bad limits are one-line errors.
source "$(dirname "$0")/../lib.sh"

limit=4096 # KiB/s: 40 MiB of incompressible data in about ten seconds

# timed_step NAME LIMIT_KIB WATCH BYTES_CMD CMD...: runs CMD, requires exit 0, and requires
# that the bytes it moved (BYTES_CMD prints them, evaluated after the run) took between 0.9
# and 1.1 times as long as the limit allows (plus the allowance). Every 0.2 s meanwhile it
# samples WATCH: a directory's used space (temporaries included, so a pack is seen while it
# is written), or `read`, the bytes the command has read (/proc/PID/io rchar: a restore's
# downloads). Over every 5 s window (shorter for a short run) that may grow by at most 1.1
# times the limit.
timed_step() {
  local name=$1 kib=$2 watch=$3 bytes_cmd=$4 code millis bytes; shift 4
  python3 - "$watch" "$TEST_DIR/$name" "$@" <<'PY'
import os, subprocess, sys, time
watch, prefix, command = sys.argv[1], sys.argv[2], sys.argv[3:]
def used():
    if watch == "read":
        for line in open("/proc/%d/io" % child.pid):
            if line.startswith("rchar:"):
                return int(line.split()[1])
    total = 0
    for root, _, files in os.walk(watch):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
            except FileNotFoundError:
                pass  # renamed from its temporary name between listing and stat
    return total
start = time.monotonic()
with open(prefix + ".stdout", "w") as out, open(prefix + ".stderr", "w") as err, open(prefix + ".samples", "w") as samples:
    child = subprocess.Popen(command, stdout=out, stderr=err)
    while child.poll() is None and time.monotonic() - start < 120:
        try:
            samples.write("%.3f %d\n" % (time.monotonic(), used()))
        except (FileNotFoundError, ProcessLookupError):
            pass  # it ended between poll and sample
        time.sleep(0.2)
    if child.poll() is None:
        child.kill()
    code = child.wait()
open(prefix + ".result", "w").write("%d %d\n" % (code, (time.monotonic() - start) * 1000))
PY
  read -r code millis <"$TEST_DIR/$name.result"
  [ "$code" = 0 ] || fail "$name exited $code: $(cat "$TEST_DIR/$name.stderr")"
  bytes=$(eval "$bytes_cmd")
  python3 - "$name" "$bytes" "$millis" "$kib" "$allowance" "$TEST_DIR/$name.samples" <<'PY' || fail "$name did not hold its limit"
import sys
name, size, millis, kib, allowance, samples = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
seconds, expected = millis / 1000, size / (kib * 1024)
points = [tuple(map(float, line.split())) for line in open(samples)]
# Windows of 5 s, or of 60% of the run when it is short (a copy at 8 MiB/s takes about 5 s).
span = min(5.0, 0.6 * seconds)
windows = []
for i, (t0, s0) in enumerate(points):
    later = [(t, s) for t, s in points[i:] if t >= t0 + span]
    if later:
        windows.append((later[0][1] - s0) / (later[0][0] - t0) / 1024)
peak = max(windows, default=0)
print("  %s: %.1f MiB in %.2f s = %.0f KiB/s at a limit of %d KiB/s (%.2f s expected); fastest %.1f s window %.0f KiB/s"
      % (name, size / 2**20, seconds, size / 1024 / seconds, kib, expected, span, peak))
if size < 30 * 2**20:
    sys.exit("%s moved only %d bytes: too little to measure" % (name, size))
if not 0.9 * expected <= seconds <= 1.1 * expected + allowance:
    sys.exit("%s: %.2f s, want %.2f to %.2f s" % (name, seconds, 0.9 * expected, 1.1 * expected + allowance))
if not windows or peak > 1.1 * kib:
    sys.exit("%s: %.0f KiB/s over %.1f s (%d windows measured), more than 1.1 times the limit" % (name, peak, span, len(windows)))
PY
}
size_of() { du -sb "$1" | cut -f1; }

src=$TEST_DIR/src
mkdir -p "$src"
for i in 1 2 3 4; do head -c $((10 * 1024 * 1024)) /dev/urandom >"$src/part$i.bin"; done
repo=$TEST_DIR/repo
obkeep -r "$repo" init >/dev/null
before=$(size_of "$repo")

# The time that is not transfer (start, key derivation, chunking, compression, fsync) is
# measured, not assumed: the same backup without a limit, on this machine under its load of
# the moment (the suite runs two tests at once; a loaded disk makes fsync take seconds),
# plus a second, and at least 2 s, is the allowance. A limit that is held but slows the run
# more than 10% beyond that still fails.
obkeep -r "$TEST_DIR/unlimited" init >/dev/null
started=$(date +%s%N)
obkeep -r "$TEST_DIR/unlimited" backup -q "$src"
allowance=$(python3 -c "print('%.2f' % max(2, 1 + ($(date +%s%N) - $started) / 1e9))")
echo "  allowance for what is not transfer: $allowance s (the unlimited backup plus 1 s, at least 2 s)"

# 1. A backup: what the repository grows by is uploaded at the limit. Tagged set=artifacts so
#    that the DR sites below hold it.
timed_step backup $limit "$repo" 'echo $(( $(size_of "$repo") - before ))' \
  "$OBKEEP_BIN" -r "$repo" --limit-upload $limit backup "$src" --tag set=artifacts
pass "backup --limit-upload $limit holds the limit"

# 2. A restore reads (nearly) the whole repository at the download limit.
timed_step restore $limit read 'size_of "$repo"' \
  "$OBKEEP_BIN" -r "$repo" restore latest --target "$TEST_DIR/out" --limit-download $limit
for i in 1 2 3 4; do cmp -s "$src/part$i.bin" "$TEST_DIR/out$src/part$i.bin" || fail "restored part$i.bin differs"; done
pass "restore --limit-download $limit holds the limit and restores every byte"

# 3. Copies to DR sites: dr1's own limit_upload holds; dr2's is overridden by --limit-upload.
for site in dr1 dr2; do
  OBKEEP_FROM_PASSWORD=$OBKEEP_PASSWORD obkeep -r "$TEST_DIR/$site" init --copy-params-from "$repo" >/dev/null
done
obkeep sample-deployment "$TEST_DIR/dep" >/dev/null
cat >"$TEST_DIR/obkeep.toml" <<TOML
[repository]
url = "$repo"
[deployment]
homes = ["$TEST_DIR/dep/wso2-obam-1.5.0"]
[[dr_site]]
name = "dr1"
url = "$TEST_DIR/dr1"
sets = ["artifacts"]
limit_upload = $limit
[[dr_site]]
name = "dr2"
url = "$TEST_DIR/dr2"
sets = ["artifacts"]
limit_upload = 1024
TOML
before=$(size_of "$TEST_DIR/dr1")
timed_step copy-dr1 $limit "$TEST_DIR/dr1" 'echo $(( $(size_of "$TEST_DIR/dr1") - before ))' \
  "$OBKEEP_BIN" copy --config "$TEST_DIR/obkeep.toml" --site dr1
[ "$(obkeep -r "$TEST_DIR/dr1" snapshots --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 1 ] ||
  fail "the snapshot did not reach dr1"
pass "copy to a DR site holds the site's limit_upload"
before=$(size_of "$TEST_DIR/dr2")
timed_step copy-dr2 $((2 * limit)) "$TEST_DIR/dr2" 'echo $(( $(size_of "$TEST_DIR/dr2") - before ))' \
  "$OBKEEP_BIN" --limit-upload $((2 * limit)) copy --config "$TEST_DIR/obkeep.toml" --site dr2
pass "--limit-upload overrides a site's limit_upload"

# 4. OBKEEP_LIMIT_UPLOAD limits too, and SIGINT stops a backup sleeping in the limiter at once:
#    8 MiB at 512 KiB/s would take 16 s.
mkdir -p "$TEST_DIR/more"
head -c $((8 * 1024 * 1024)) /dev/urandom >"$TEST_DIR/more/new.bin"
start_timed interrupted 60 env OBKEEP_LIMIT_UPLOAD=512 "$OBKEEP_BIN" -r "$repo" backup "$TEST_DIR/more"
sleep 3
[ ! -e "$TEST_DIR/interrupted.result" ] || fail "the backup under OBKEEP_LIMIT_UPLOAD=512 ended within 3 s"
pid=$(timed_pid interrupted)
signalled=$(date +%s%N)
kill -INT "$pid"
wait_timed interrupted
after_signal=$((($(date +%s%N) - signalled) / 1000000))
[ "$RUN_EXIT" = 130 ] || fail "interrupted backup exited $RUN_EXIT, want 130: $(cat "$TEST_DIR/stderr")"
[ "$after_signal" -lt 2000 ] || fail "the backup took ${after_signal} ms to stop after SIGINT"
[ -z "$(ls "$repo/locks")" ] || fail "the interrupted backup left a lock"
pass "OBKEEP_LIMIT_UPLOAD limits; SIGINT stops a limited backup in ${after_signal} ms"

# 5. Bad limits: one line naming the option or the config key, nothing done.
expect_exit 2 obkeep -r "$repo" --limit-upload fast snapshots
expect_stderr_matches "bad --limit-upload.*'fast'"
expect_one_line_error
expect_exit 2 env OBKEEP_LIMIT_DOWNLOAD=1.5 "$OBKEEP_BIN" -r "$repo" snapshots
expect_stderr_matches "OBKEEP_LIMIT_DOWNLOAD '1.5'"
expect_one_line_error
sed 's/^limit_upload = 1024$/limit_download = "fast"/' "$TEST_DIR/obkeep.toml" >"$TEST_DIR/bad.toml"
line=$(grep -n 'limit_download = "fast"' "$TEST_DIR/bad.toml" | cut -d: -f1)
expect_exit 2 obkeep copy --config "$TEST_DIR/bad.toml"
expect_stderr_matches "bad.toml:$line: dr_site.limit_download: must be a whole number"
expect_one_line_error
pass "bad limits are one-line errors naming the option or key"
