#!/usr/bin/env bash
# forget keeps exactly what the rules say; prune frees the space of what is forgotten.
source "$(dirname "$0")/../lib.sh"

repo=$TEST_DIR/repo
src=$TEST_DIR/src
mkdir -p "$src"
obkeep -r "$repo" init >/dev/null
ids=()
for i in 1 2 3 4 5 6; do
  head -c 2000000 /dev/urandom >"$src/version.bin"  # every snapshot has 2 MB of its own
  ids+=("$(obkeep -r "$repo" backup "$src" --json | tail -n 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["snapshot_id"])')")
done
size_before=$(du -sb "$repo/data" | cut -f1)

obkeep -r "$repo" forget --keep-last 2 --dry-run >/dev/null
[ "$(ls "$repo/snapshots" | wc -l)" = 6 ] || fail "dry run removed snapshots"
obkeep -r "$repo" forget --keep-last 2 --json | tail -n 1 >"$TEST_DIR/forget.json"
python3 - "$TEST_DIR/forget.json" "${ids[@]}" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
ids = sys.argv[2:]
kept = {s["id"] for s in report["snapshots"] if s["keep"]}
assert kept == set(ids[-2:]), (kept, ids)
assert report["removed"] == 4
PY
remaining=$(ls "$repo/snapshots" | sort | tr '\n' ' ')
want=$(printf '%s\n' "${ids[4]}" "${ids[5]}" | sort | tr '\n' ' ')
[ "$remaining" = "$want" ] || fail "kept $remaining, want $want"
pass "forget --keep-last 2 keeps exactly the two newest"

obkeep -r "$repo" prune >/dev/null
size_after=$(du -sb "$repo/data" | cut -f1)
[ "$size_after" -lt $((size_before / 2)) ] || fail "prune freed too little: $size_before -> $size_after"
obkeep -r "$repo" check --read-data >/dev/null
obkeep -r "$repo" restore "${ids[4]:0:10}" --target "$TEST_DIR/out" >/dev/null
pass "prune freed $((size_before - size_after)) of $size_before bytes; remaining snapshots restore"

# Daily rules: snapshots on distinct days are kept one per day (backdated with --time).
for day in 01 01 02 03 03 04; do
  obkeep -r "$repo" backup "$src" --tag daily --time "2026-10-${day}T12:00:00Z" >/dev/null
done
obkeep -r "$repo" forget --tag daily --keep-daily 3 --json | tail -n 1 | python3 -c "
import json, sys
report = json.load(sys.stdin)
kept = sorted(s['time'][:10] for s in report['snapshots'] if s['keep'])
assert kept == ['2026-10-02', '2026-10-03', '2026-10-04'], kept
"
pass "forget --keep-daily 3 keeps the newest of each of the 3 newest days"
