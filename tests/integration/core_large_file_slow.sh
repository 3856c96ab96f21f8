#!/usr/bin/env bash
# A file over 4 GiB (sparse, with data before, across and after the 4 GiB boundary) backs
# up and restores with every byte in place, sparse again: no 32-bit offset anywhere.
source "$(dirname "$0")/../lib.sh"
src=$TEST_DIR/src
mkdir -p "$src"
big=$src/large.img
truncate -s $((5 * 1024 * 1024 * 1024 + 12345)) "$big"
python3 - "$big" <<'PY'
import os, sys
with open(sys.argv[1], "r+b") as f:
    for offset in (0, 4 * 1024**3 - 100, 4 * 1024**3 + 7, os.path.getsize(sys.argv[1]) - 50):
        f.seek(offset)
        f.write(os.urandom(50) + b"marker-%d" % offset + os.urandom(200))
PY
obkeep -r "$TEST_DIR/repo" init >/dev/null
expect_exit 0 obkeep -r "$TEST_DIR/repo" backup "$src" --json
tail -n 1 "$TEST_DIR/stdout" | python3 -c "
import json, os, sys
s = json.load(sys.stdin)
assert s['bytes_processed'] == os.path.getsize('$big') > 5 * 1024**3, s
assert s['bytes_added'] < 64 * 1024**2, s  # the zeros deduplicate to a few chunks
"
expect_exit 0 obkeep -r "$TEST_DIR/repo" restore latest --target "$TEST_DIR/out"
python3 - "$big" "$TEST_DIR/out$big" <<'PY'
import os, sys
a, b = sys.argv[1:3]
assert os.path.getsize(a) == os.path.getsize(b), (os.path.getsize(a), os.path.getsize(b))
size = os.path.getsize(a)
with open(a, "rb") as fa, open(b, "rb") as fb:
    for offset in (0, 4 * 1024**3 - 100, 4 * 1024**3 + 7, size - 50, 2 * 1024**3, 4 * 1024**3 - 4096):
        fa.seek(offset); fb.seek(offset)
        assert fa.read(1 << 16) == fb.read(1 << 16), offset
PY
[ "$(stat -c %b "$TEST_DIR/out$big")" -lt 100000 ] || fail "the restored large file is not sparse"
pass "a 5 GiB sparse file restores with data at both sides of 4 GiB, sparse again"
