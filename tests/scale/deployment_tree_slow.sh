#!/usr/bin/env bash
# Scale: the benchmark's deployment tree (bench/generate_tree.py) at five times its size,
# about 12 GB in 120,000 files, against the same tree at a quarter of that. Memory may grow
# with the files only by the index, time linearly; the restore is compared in full. Not in
# CI: run by scripts/scale.sh. OBKEEP_SCALE_TREE sets the scale of the whole tree.
source "$(dirname "$0")/../lib.sh"
scale=${OBKEEP_SCALE_TREE:-5}
count_files() { find "$1" -type f | wc -l; }
for part in quarter whole; do
  data=$TEST_DIR/data-$part repo=$TEST_DIR/repo-$part
  part_scale=$(python3 -c "print($scale / 4 if '$part' == 'quarter' else $scale)")
  echo "generating the tree at scale $part_scale..."
  python3 "$OBKEEP_SOURCE_DIR/bench/generate_tree.py" "$data" --scale "$part_scale"
  declare "files_$part=$(count_files "$data")"
  obkeep -r "$repo" init >/dev/null
  measure "backup-$part" "$OBKEEP_BIN" -r "$repo" backup "$data"
  measure "nochange-$part" "$OBKEEP_BIN" -r "$repo" backup "$data"
  measure "restore-$part" "$OBKEEP_BIN" -r "$repo" restore latest --target "$TEST_DIR/restore"
  diff -r "$data" "$TEST_DIR/restore$data" || fail "the restore of the $part tree differs"
  rm -rf "$TEST_DIR/restore"
  measure "check-$part" "$OBKEEP_BIN" -r "$repo" check --read-data
  [ "$part" = quarter ] && rm -rf "$data" "$repo"
done
python3 "$(dirname "$0")/expect_scaling.py" "$TEST_DIR/measures" "$files_whole" "$files_quarter"
pass "the deployment tree at scale $scale ($files_whole files): memory bounded, time linear"
