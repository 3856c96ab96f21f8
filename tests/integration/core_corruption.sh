#!/usr/bin/env bash
# A flipped byte in a pack is found by check --read-data and by restore, which names the
# damaged file; everything else stays restorable. Tampered metadata is detected too.
source "$(dirname "$0")/../lib.sh"

repo=$TEST_DIR/repo
mkdir -p "$TEST_DIR/src/a" "$TEST_DIR/src/b"
head -c 2000000 /dev/urandom >"$TEST_DIR/src/a/victim.bin"
for i in 1 2 3 4 5; do head -c 100000 /dev/urandom >"$TEST_DIR/src/b/ok$i.bin"; done
obkeep -r "$repo" init >/dev/null
obkeep -r "$repo" backup "$TEST_DIR/src/a" >/dev/null  # the victim gets a pack of its own
obkeep -r "$repo" backup "$TEST_DIR/src" >/dev/null
obkeep -r "$repo" check --read-data >/dev/null

# Flip one bit in the middle of the victim's pack (the largest pack).
pack=$(find "$repo/data" -type f -printf '%s %p\n' | sort -n | tail -n 1 | cut -d' ' -f2)
python3 - "$pack" <<'PY'
import os, sys
path = sys.argv[1]
os.chmod(path, 0o644)
with open(path, 'r+b') as f:
    f.seek(1000000)
    b = f.read(1)
    f.seek(1000000)
    f.write(bytes([b[0] ^ 0x10]))
PY
expect_exit 0 obkeep -r "$repo" check  # structure alone cannot see it
expect_exit 1 obkeep -r "$repo" check --read-data
expect_stderr_matches "pack .* is damaged"
expect_stderr_matches "affected: snapshot .*: .*/src/a/victim.bin"
pass "check --read-data finds the flipped bit and names the affected file"

expect_exit 1 obkeep -r "$repo" restore latest --target "$TEST_DIR/out"
expect_stderr_matches "victim.bin not restored"
[ ! -e "$TEST_DIR/out$TEST_DIR/src/a/victim.bin" ] || fail "damaged file was written"
for i in 1 2 3 4 5; do
  cmp "$TEST_DIR/src/b/ok$i.bin" "$TEST_DIR/out$TEST_DIR/src/b/ok$i.bin" || fail "ok$i.bin not restored"
done
obkeep -r "$repo" restore latest --target "$TEST_DIR/out2" --include "$TEST_DIR/src/b" >/dev/null
cmp "$TEST_DIR/src/b/ok3.bin" "$TEST_DIR/out2$TEST_DIR/src/b/ok3.bin"
pass "restore refuses the damaged file and restores the rest"

# Tampering with a snapshot object is detected, not trusted.
snapshot=$(ls "$repo/snapshots" | head -n 1)
chmod 644 "$repo/snapshots/$snapshot"
printf 'X' | dd of="$repo/snapshots/$snapshot" bs=1 seek=20 conv=notrunc status=none
expect_exit 1 obkeep -r "$repo" check
expect_stderr_matches "snapshot $snapshot"
pass "tampered snapshot detected"
