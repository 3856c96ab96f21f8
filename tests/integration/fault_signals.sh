#!/usr/bin/env bash
# SIGINT and SIGTERM at any moment: exit 130 within 10 s, the lock released, no temporary
# left, a repository that check passes and a next run that succeeds; a restore leaves no
# half-written file under a real name. Also when the operation is stuck in a storage call
# that ignores signals (as one on a dead link does): the watchdog ends it.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../faults.sh"

fault_fixture

expect_stopped() { # WHAT: exit 130 within 10 s
  [ "$cell_exit" = 130 ] || fail "$1: exit $cell_exit, want 130; stderr: $(cat "$TEST_DIR/stderr")"
  [ "$cell_ms" -lt 10000 ] || fail "$1: took $cell_ms ms after the signal"
  record_cell "$1" "SIG$2" "exit 130 in $cell_ms ms; lock and temporaries removed; check clean; rerun ok"
}

# 1. Stuck in a storage call that ignores signals: the watchdog exits, lock and temporary gone.
signal_during TERM "locked $repo && sleep 1" 'save:pack@1=hang' obkeep -r "$repo" backup "$src"
expect_stopped "backup stuck in a pack save" TERM
grep -q "did not stop in time" "$TEST_DIR/stderr" || fail "the watchdog did not say why: $(cat "$TEST_DIR/stderr")"
expect_repository_sound "backup stuck in a pack save" "$repo"
obkeep -r "$repo" backup "$src" >/dev/null
pass "a backup stuck in a storage call: exit 130 within 10 s of SIGTERM, lock removed"

signal_during INT "locked $repo && sleep 1" 'load:pack@3=hang' obkeep -r "$repo" restore latest --target "$TEST_DIR/out"
expect_stopped "restore stuck in a pack read" INT
expect_repository_sound "restore stuck in a pack read" "$repo"
expect_only_whole_files "$TEST_DIR/out" >/dev/null
pass "a restore stuck in a storage call: exit 130, no half-written file under a real name"

signal_during TERM "locked $dr && sleep 1" 'save:pack@1=hang' env OBKEEP_TEST_FAULTS_REPO="$dr" "$OBKEEP_BIN" -r "$dr" copy --from-repo "$repo"
expect_stopped "copy stuck in a pack save at the DR site" TERM
expect_repository_sound "copy stuck" "$dr"
expect_repository_sound "copy stuck" "$repo"
obkeep -r "$dr" copy --from-repo "$repo" >/dev/null
pass "a copy stuck at the DR site: exit 130, the locks of both repositories removed"

obkeep -r "$repo" forget --keep-last 1 >/dev/null
signal_during TERM "locked $repo && sleep 1" 'remove:pack@1=hang' obkeep -r "$repo" prune
expect_stopped "prune stuck removing a pack" TERM
expect_repository_sound "prune stuck" "$repo"
obkeep -r "$repo" prune >/dev/null
pass "a prune stuck in a remove: exit 130, the exclusive lock removed"

# 2. A second signal ends the process at once.
OBKEEP_TEST_FAULTS='save:pack@1=hang' "$OBKEEP_BIN" -r "$repo" backup "$src" --force >/dev/null 2>"$TEST_DIR/stderr" &
pid=$!
for ((i = 0; i < 300; i++)); do locked "$repo" && break; sleep 0.05; done
sleep 1
kill -INT "$pid"; sleep 0.2; start=${EPOCHREALTIME/./}; kill -INT "$pid"
got=0; wait "$pid" || got=$?
ms=$(((${EPOCHREALTIME/./} - start) / 1000))
[ "$got" = 130 ] && [ "$ms" -lt 3000 ] || fail "second SIGINT: exit $got after $ms ms"
expect_repository_sound "second signal" "$repo"
record_cell "backup stuck, second SIGINT" "SIGINT twice" "exit 130 in $ms ms after the second"
pass "a second signal stops at once"

# 3. Cooperative stops at chosen moments of real work (no fault), counted from when the
#    command holds its lock: each ends within 10 s with 130 (or 0 when the work had already
#    finished), nothing left behind.
for delay in 0.1 0.3 0.6 1.0; do
  signal_during INT "locked $repo && sleep $delay" - obkeep -r "$repo" backup "$src" --force
  case $cell_exit in 0 | 130) ;; *) fail "backup interrupted after ${delay}s: exit $cell_exit: $(cat "$TEST_DIR/stderr")" ;; esac
  [ "$cell_ms" -lt 10000 ] || fail "backup interrupted after ${delay}s took $cell_ms ms to stop"
  expect_repository_sound "backup interrupted after ${delay}s" "$repo"
  record_cell "backup, ${delay}s in" "SIGINT" "exit $cell_exit in $cell_ms ms; check clean"
  rm -rf "$TEST_DIR/out"
  signal_during TERM "locked $repo && sleep $delay" - obkeep -r "$repo" restore latest --target "$TEST_DIR/out"
  case $cell_exit in 0 | 130) ;; *) fail "restore interrupted after ${delay}s: exit $cell_exit: $(cat "$TEST_DIR/stderr")" ;; esac
  [ "$cell_ms" -lt 10000 ] || fail "restore interrupted after ${delay}s took $cell_ms ms to stop"
  expect_only_whole_files "$TEST_DIR/out" >/dev/null
  record_cell "restore, ${delay}s in" "SIGTERM" "exit $cell_exit in $cell_ms ms; no partial file"
done
obkeep -r "$repo" backup "$src" >/dev/null
obkeep -r "$repo" check --read-data >/dev/null
pass "SIGINT/SIGTERM during real backups and restores: stopped within 10 s, repository sound"

print_cells
