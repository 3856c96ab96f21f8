#!/usr/bin/env bash
# kill -9 at any point of a backup or a prune leaves a repository that check passes, and
# the next run succeeds. Two backups into one repository at once both succeed.
source "$(dirname "$0")/../lib.sh"

repo=$TEST_DIR/repo
src=$TEST_DIR/src
mkdir -p "$src"
for i in $(seq 1 40); do head -c $((1000000 + i * 50000)) /dev/urandom >"$src/file$i.bin"; done
obkeep -r "$repo" init >/dev/null

for delay in 0.05 0.2 0.4 0.7; do
  "$OBKEEP_BIN" -r "$repo" backup "$src" --force >/dev/null 2>&1 &
  pid=$!
  sleep "$delay"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  obkeep -r "$repo" check >/dev/null 2>"$TEST_DIR/check.err" || fail "check failed after kill at ${delay}s: $(cat "$TEST_DIR/check.err")"
done
pass "check passes after backups killed at several points"

obkeep -r "$repo" backup "$src" >/dev/null
obkeep -r "$repo" check --read-data >/dev/null
obkeep -r "$repo" restore latest --target "$TEST_DIR/out" >/dev/null
diff -r "$src" "$TEST_DIR/out$src" || fail "restore after crashes differs"
pass "the next backup succeeds and restores"

obkeep -r "$repo" prune >/dev/null
[ -z "$(find "$repo/data" -type f -newer "$repo/config" -name '.tmp-*')" ] || fail "temporaries left"
obkeep -r "$repo" check --read-data >/dev/null 2>"$TEST_DIR/check.err"
grep -q "not in the index" "$TEST_DIR/check.err" && fail "prune left unreferenced packs"
pass "prune removes what killed backups left"

# Killed prunes.
for i in 1 2 3; do
  echo "change $i" >>"$src/file$i.bin"
  obkeep -r "$repo" backup "$src" >/dev/null
done
obkeep -r "$repo" forget --keep-last 1 >/dev/null
for delay in 0.01 0.05 0.1 0.2; do
  "$OBKEEP_BIN" -r "$repo" prune >/dev/null 2>&1 &
  pid=$!
  sleep "$delay"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  obkeep -r "$repo" check --read-data >/dev/null 2>"$TEST_DIR/check.err" || fail "check failed after prune killed at ${delay}s: $(cat "$TEST_DIR/check.err")"
done
obkeep -r "$repo" prune >/dev/null
obkeep -r "$repo" restore latest --target "$TEST_DIR/out2" >/dev/null
diff -r "$src" "$TEST_DIR/out2$src" || fail "restore after killed prunes differs"
pass "killed prunes leave a sound repository"

# Two backups at once.
mkdir -p "$TEST_DIR/other"
for i in $(seq 1 20); do head -c 700000 /dev/urandom >"$TEST_DIR/other/o$i"; done
before=$(obkeep -r "$repo" snapshots --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
obkeep -r "$repo" backup "$src" --force >/dev/null & a=$!
obkeep -r "$repo" backup "$TEST_DIR/other" >/dev/null & b=$!
wait $a || fail "first concurrent backup failed"
wait $b || fail "second concurrent backup failed"
after=$(obkeep -r "$repo" snapshots --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$after" = $((before + 2)) ] || fail "want two more snapshots, have $before -> $after"
obkeep -r "$repo" check --read-data >/dev/null
other_id=$(obkeep -r "$repo" snapshots --path "$TEST_DIR/other" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["id"])')
obkeep -r "$repo" restore "$other_id" --target "$TEST_DIR/out3" >/dev/null
diff -r "$TEST_DIR/other" "$TEST_DIR/out3$TEST_DIR/other" || fail "concurrent backup restore differs"
pass "two concurrent backups both succeed"

# A live exclusive lock stops a backup with exit 11; a stale one is reported and removed.
obkeep -r "$repo" with-lock --exclusive -- sleep 3 &
holder=$!
sleep 1
expect_exit 11 obkeep -r "$repo" backup "$src"
expect_stderr_matches "already locked exclusively"
expect_one_line_error
wait $holder
"$OBKEEP_BIN" -r "$repo" with-lock --exclusive -- sh -c 'kill -9 $PPID' >/dev/null 2>&1 || true
obkeep -r "$repo" unlock 2>"$TEST_DIR/unlock.err" >/dev/null
grep -q "stale" "$TEST_DIR/unlock.err" || fail "stale lock not reported: $(cat "$TEST_DIR/unlock.err")"
[ -z "$(ls "$repo/locks")" ] || fail "stale lock not removed"
obkeep -r "$repo" backup "$src" >/dev/null
pass "locks: conflict exit 11, stale locks reported and removed"
