#!/usr/bin/env bash
# A tree holding every kind of file round-trips byte for byte with its metadata.
source "$(dirname "$0")/../lib.sh"

src=$TEST_DIR/src
mkdir -p "$src/dir/empty" "$src/dir/sub"
printf 'hello\n' >"$src/dir/file.txt"
: >"$src/dir/empty-file"
head -c 3000000 /dev/urandom >"$src/dir/sub/random.bin"
# compressible and chunked: several MiB of text
python3 -c "import sys
for i in range(200000): sys.stdout.write('line %d of a log file with some repeated text\n' % i)" >"$src/dir/log.txt"
ln -s file.txt "$src/dir/link-to-file"
ln -s /nonexistent/target "$src/dir/dangling"
ln "$src/dir/file.txt" "$src/dir/hardlink"
mkfifo "$src/dir/fifo"
mknod "$src/dir/chardev" c 1 3
mknod "$src/dir/blockdev" b 7 200
chmod 4755 "$src/dir/file.txt"
chmod 0600 "$src/dir/sub/random.bin"
chmod 1777 "$src/dir/sub"
chown 1234:5678 "$src/dir/empty-file"
chown -h 4321:8765 "$src/dir/link-to-file"
setfattr -n user.comment -v "backed up" "$src/dir/file.txt"
setfattr -n user.binary -v 0x00ff10 "$src/dir/sub/random.bin"
name=$(printf 'latin1-\xe9\xe8-name')
printf 'not utf-8\n' >"$src/dir/$name"
printf 'unicode\n' >"$src/dir/ünïcödé ✓"
# a sparse file with data at both ends
truncate -s 64M "$src/dir/sparse"
printf 'start' | dd of="$src/dir/sparse" conv=notrunc status=none
printf 'end' | dd of="$src/dir/sparse" bs=1 seek=$((64 * 1024 * 1024 - 3)) conv=notrunc status=none
touch -d '2001-02-03 04:05:06.123456789' "$src/dir/file.txt"
touch -h -d '2002-03-04 05:06:07.987654321' "$src/dir/link-to-file"
touch -d '2003-04-05 06:07:08.5' "$src/dir/sub"

obkeep -r "$TEST_DIR/repo" init >/dev/null
obkeep -r "$TEST_DIR/repo" backup "$src" --json >"$TEST_DIR/backup.json"
tail -n 1 "$TEST_DIR/backup.json" | python3 -c "
import json, sys
s = json.loads(sys.stdin.read())
for key in ('snapshot_id', 'files_new', 'files_changed', 'files_unmodified', 'bytes_processed', 'bytes_added', 'duration_s'):
    assert key in s, key
assert s['files_new'] == 8, s
assert s['bytes_added'] < s['bytes_processed'], s  # the log compressed, the sparse zeros deduplicated
"
obkeep -r "$TEST_DIR/repo" restore latest --target "$TEST_DIR/out" >/dev/null
tree_manifest "$src" >"$TEST_DIR/want"
tree_manifest "$TEST_DIR/out$src" >"$TEST_DIR/got"
diff "$TEST_DIR/want" "$TEST_DIR/got" || fail "restored tree differs"
pass "byte-identical restore with metadata"

# The sparse file is sparse again: far fewer blocks than its size.
blocks=$(stat -c %b "$TEST_DIR/out$src/dir/sparse")
[ "$blocks" -lt 1024 ] || fail "sparse file restored with $blocks blocks"
pass "sparse file restored sparse"

# Incremental: nothing changed → nothing read; one change → one file.
obkeep -r "$TEST_DIR/repo" backup "$src" --json | tail -n 1 >"$TEST_DIR/second.json"
python3 -c "
import json; s = json.load(open('$TEST_DIR/second.json'))
assert s['files_unmodified'] == 8 and s['files_new'] == 0 and s['files_changed'] == 0, s
"
echo more >>"$src/dir/sub/random.bin"
obkeep -r "$TEST_DIR/repo" backup "$src" --json | tail -n 1 >"$TEST_DIR/third.json"
python3 -c "
import json; s = json.load(open('$TEST_DIR/third.json'))
assert s['files_changed'] == 1 and s['files_unmodified'] == 7, s
"
obkeep -r "$TEST_DIR/repo" diff "$(python3 -c "import json; print(json.load(open('$TEST_DIR/second.json'))['snapshot_id'])")" latest >"$TEST_DIR/diff"
grep -q "^M  $src/dir/sub/random.bin$" "$TEST_DIR/diff" || fail "diff does not show the change: $(cat "$TEST_DIR/diff")"
pass "incremental backups read only changed files"

obkeep -r "$TEST_DIR/repo" snapshots --json | python3 -c "
import json, sys
snaps = json.load(sys.stdin)
assert len(snaps) == 3
for s in snaps:
    for key in ('id', 'time', 'paths', 'tags', 'host'):
        assert key in s, key
"
obkeep -r "$TEST_DIR/repo" check --read-data >/dev/null
pass "snapshots --json and check --read-data"
