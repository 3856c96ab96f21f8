#!/usr/bin/env bash
# kill -9 at chosen points of every writing operation: the process kills itself just before
# or just after its Nth storage call (OBKEEP_TEST_FAULTS '*@N=kill' / 'kill-after'), N drawn
# from a seeded generator so a failure is repeatable (OBKEEP_KILL_SEED, OBKEEP_KILL_ROUNDS).
# After each kill the repository checks clean and the same command run again completes.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../faults.sh"

seed=${OBKEEP_KILL_SEED:-20261201}
rounds=${OBKEEP_KILL_ROUNDS:-4}
RANDOM=$seed
echo "seed $seed, $rounds rounds per operation"

fault_fixture
obkeep backup --config "$TEST_DIR/obkeep.toml" --set databases >/dev/null
obkeep -r "$repo" backup "$src" >/dev/null

segment=0
next_wal() { # a new WAL segment file, named in $wal
  segment=$((segment + 1))
  wal=$(printf '0000000100000000000000%02X' "$segment")
  head -c 400000 /dev/urandom >"$TEST_DIR/$wal"
}

# after_kill WHAT: the repositories are sound (a killed process's lock is stale: its pid is gone).
after_kill() {
  obkeep -r "$repo" check >/dev/null 2>"$TEST_DIR/check.err" || fail "$1: check of the primary fails: $(cat "$TEST_DIR/check.err")"
  obkeep -r "$dr" check >/dev/null 2>"$TEST_DIR/check.err" || fail "$1: check of the DR site fails: $(cat "$TEST_DIR/check.err")"
}

# kill_round NAME CMD...: runs CMD killed at a random point, then checks and reruns it.
kill_round() {
  local name=$1; shift
  local effect n
  effect=$([ $((RANDOM % 2)) = 0 ] && echo kill || echo kill-after)
  n=$((RANDOM % 30 + 1))
  run_with_fault "*@$n=$effect" 60 "$@"
  case $cell_exit in
    137) outcome="killed at call $n" ;;
    0) outcome="finished before call $n" ;;
    *) fail "$name with *@$n=$effect: exit $cell_exit: $(cat "$TEST_DIR/stderr")" ;;
  esac
  after_kill "$name after *@$n=$effect"
  "$@" >/dev/null 2>"$TEST_DIR/rerun.err" || fail "$name after *@$n=$effect: the next run failed: $(cat "$TEST_DIR/rerun.err")"
  after_kill "$name rerun after *@$n=$effect"
  record_cell "$name" "kill -9 $([ "$effect" = kill ] && echo before || echo after) call $n" "$outcome; check clean; rerun ok"
}

for ((round = 0; round < rounds; round++)); do
  echo "tick $round" >>"$src/conf/file$round.xml"
  kill_round backup obkeep -r "$repo" backup "$src"
  kill_round copy obkeep -r "$dr" copy --from-repo "$repo"
  next_wal
  kill_round wal-push obkeep -r "$repo" wal-push --stanza ob "$TEST_DIR/$wal"
  obkeep -r "$repo" wal-fetch --stanza ob "$wal" "$TEST_DIR/fetched" >/dev/null
  cmp -s "$TEST_DIR/$wal" "$TEST_DIR/fetched" || fail "the WAL segment fetched after a killed push differs"
  rm -f "$TEST_DIR/fetched"
  obkeep backup --config "$TEST_DIR/obkeep.toml" --set databases >/dev/null
  kill_round restore-db obkeep restore-db latest --config "$TEST_DIR/obkeep.toml" --database WSO2_OB_DB \
    --to jdbc:oracle:thin:@127.0.0.1:1521/ORCLPDB1
  cmp -s "$TEST_DIR/vendor.dmp" "$TEST_DIR/restored.dmp" || fail "restore-db after a kill gave another dump"
  rm -rf "$TEST_DIR/out"
  run_with_fault "*@$((RANDOM % 20 + 3))=kill" 60 obkeep -r "$repo" restore latest --target "$TEST_DIR/out"
  expect_only_whole_files "$TEST_DIR/out" >/dev/null
  record_cell restore "kill -9 mid-restore" "exit $cell_exit; every file under its real name complete"
  kill_round forget-prune obkeep -r "$repo" forget --keep-last 3 --prune
  kill_round prune obkeep -r "$repo" prune
done
obkeep -r "$repo" prune >/dev/null
[ -z "$(find "$repo" -name '.tmp-*')" ] || fail "prune left temporaries"
obkeep -r "$repo" check --read-data >/dev/null
obkeep -r "$dr" check --read-data >/dev/null
obkeep -r "$dr" copy --from-repo "$repo" >/dev/null
newest_of_src=$(obkeep -r "$dr" snapshots --json | python3 -c "import json, sys
print([s for s in json.load(sys.stdin) if s['paths'] == ['$src']][-1]['id'])")
rm -rf "$TEST_DIR/out"
obkeep -r "$dr" restore "$newest_of_src" --target "$TEST_DIR/out" >/dev/null
diff -r "$src" "$TEST_DIR/out$src" >/dev/null || fail "the DR site's latest snapshot does not restore the source"
pass "kill -9 at $((rounds * 6)) seeded points of backup, copy, wal-push, restore-db, forget --prune and prune: sound after each"

print_cells
