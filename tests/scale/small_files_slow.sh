#!/usr/bin/env bash
# Scale: a tree of many small files (default 1,000,000: 100 x 100 directories of 100 files).
# A quarter of the tree and the whole of it are backed up and restored: memory may grow with
# the files only by the index's entry per blob, time linearly, and every step (backup,
# no-change backup, restore, check, forget and prune) finishes. Not in CI: run by
# scripts/scale.sh. OBKEEP_SCALE_FILES sets the number of files.
source "$(dirname "$0")/../lib.sh"
files=${OBKEEP_SCALE_FILES:-1000000}
data=$TEST_DIR/data
echo "generating $files small files..."
python3 "$OBKEEP_SOURCE_DIR/bench/generate_tree.py" "$data" --small-files "$files"
# The quarter: the first quarter of the top-level directories (of 10,000 files each).
mapfile -t top < <(find "$data" -mindepth 1 -maxdepth 1 -type d | sort)
quarter=("${top[@]:0:$(((${#top[@]} + 3) / 4))}")
quarter_files=$(find "${quarter[@]}" -type f | wc -l)
echo "quarter: $quarter_files files in ${#quarter[@]} directories"

for part in quarter whole; do
  repo=$TEST_DIR/repo-$part
  obkeep -r "$repo" init >/dev/null
  if [ "$part" = quarter ]; then paths=("${quarter[@]}"); else paths=("$data"); fi
  measure "backup-$part" "$OBKEEP_BIN" -r "$repo" backup "${paths[@]}"
  measure "nochange-$part" "$OBKEEP_BIN" -r "$repo" backup "${paths[@]}"
  measure "restore-$part" "$OBKEEP_BIN" -r "$repo" restore latest --target "$TEST_DIR/restore-$part"
  [ "$(find "$TEST_DIR/restore-$part$data" -type f | wc -l)" = "$([ $part = quarter ] && echo "$quarter_files" || echo "$files")" ] ||
    fail "restore-$part: wrong number of files"
  rm -rf "$TEST_DIR/restore-$part"
done
# Every byte of the whole tree, once more through a restore of one directory compared in full.
obkeep -r "$TEST_DIR/repo-whole" restore latest --target "$TEST_DIR/sample" --include "${top[-1]}" >/dev/null
diff -r "${top[-1]}" "$TEST_DIR/sample${top[-1]}" || fail "a restored directory differs"

# More snapshots must not make a backup slower: ten more, then the last no-change backup is
# timed against the first; forget and prune then leave a repository that checks.
for i in $(seq 1 10); do obkeep -r "$TEST_DIR/repo-whole" backup "$data" >/dev/null; done
measure "nochange-after-12" "$OBKEEP_BIN" -r "$TEST_DIR/repo-whole" backup "$data"
measure "forget-prune" "$OBKEEP_BIN" -r "$TEST_DIR/repo-whole" forget --keep-last 1 --prune
measure "check" "$OBKEEP_BIN" -r "$TEST_DIR/repo-whole" check

python3 "$(dirname "$0")/expect_scaling.py" "$TEST_DIR/measures" "$files" "$quarter_files"
pass "$files small files: memory bounded, time linear, every step through"
