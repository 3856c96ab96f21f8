#!/usr/bin/env bash
# The archive catalog from the command line (repository-format.md §14): 300 WAL files pushed
# one by one as archive_command does; prune writes the catalog; from then on prune,
# archive-ls and a copy to a new site read the whole archive in a few reads (the backend
# trace counts them: 300 before), check finds the catalog in agreement and, in a verification
# rotation, reads each entry once a rotation, the copy does not
# carry it, and a WAL file fetched back is whole.
source "$(dirname "$0")/../lib.sh"

repo=$TEST_DIR/repo dr=$TEST_DIR/dr wal=$TEST_DIR/wal
mkdir -p "$wal"
obkeep -r "$repo" init >/dev/null
# A program's key, as archive_command uses: no password stretching on every push.
obkeep -r "$repo" -q key add --generate-password-file "$TEST_DIR/program.password"
export OBKEEP_PASSWORD_FILE=$TEST_DIR/program.password
unset OBKEEP_PASSWORD

files=300
for i in $(seq 1 $files); do
  name=$(printf '000000010000000000%06X' "$i")
  head -c 3000 /dev/urandom >"$wal/$name"
  obkeep -r "$repo" -q wal-push --stanza main "$wal/$name" || fail "wal-push $name"
done

# archive_loads COMMAND...: runs it with the backend trace on; prints its archive entry loads.
archive_loads() {
  rm -f "$TEST_DIR/trace"
  OBKEEP_TRACE_BACKEND=$TEST_DIR/trace "$@" >"$TEST_DIR/out" 2>"$TEST_DIR/err" || fail "$*: $(cat "$TEST_DIR/err")"
  grep -c ' load archive' "$TEST_DIR/trace" || true
}

before=$(archive_loads obkeep -r "$repo" archive-ls --kind wal)
[ "$before" -ge "$files" ] || fail "without a catalog archive-ls read $before entries, want one each ($files)"
obkeep -r "$repo" prune >/dev/null
catalogs=$(obkeep -r "$repo" archive-ls --kind catalog --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$catalogs" = 1 ] || fail "prune wrote $catalogs catalogs, want 1"
pass "prune wrote the archive catalog of $files WAL files"

listed=$(archive_loads obkeep -r "$repo" archive-ls --kind wal)
grep -q "^$files entries" "$TEST_DIR/out" || fail "archive-ls: $(tail -1 "$TEST_DIR/out")"
[ "$listed" -le 2 ] || fail "archive-ls read $listed archive entries with the catalog, want at most 2"
pruned=$(archive_loads obkeep -r "$repo" prune)
[ "$pruned" -le 2 ] || fail "prune read $pruned archive entries with the catalog, want at most 2"
pass "archive-ls and prune read $listed and $pruned entries (the catalog's) instead of $before"

obkeep -r "$repo" check --read-data >"$TEST_DIR/check.out" 2>&1 || fail "check: $(cat "$TEST_DIR/check.out")"
# A verification rotation: each part reads its share of the entries, the catalog the rest.
rotation=0
for part in 1 2 3 4; do
  read_here=$(archive_loads obkeep -r "$repo" check --read-data-subset "$part/4")
  [ "$read_here" -lt 150 ] || fail "check part $part/4 read $read_here archive entries, want about a quarter"
  rotation=$((rotation + read_here))
done
[ "$rotation" -ge "$files" ] || fail "a whole rotation read $rotation archive entries, want each at least once ($files)"
name=$(printf '000000010000000000%06X' 77)
obkeep -r "$repo" wal-fetch --stanza main "$name" "$TEST_DIR/fetched" || fail "wal-fetch $name"
cmp -s "$TEST_DIR/fetched" "$wal/$name" || fail "WAL file $name fetched back differs"
pass "check clean with the catalog; a WAL file fetched back is whole"

copied=$(archive_loads obkeep -r "$dr" copy --init --from-repo "$repo")
[ "$copied" -le 2 ] || fail "copy read $copied archive entries at the source with the catalog, want at most 2"
obkeep -r "$dr" archive-ls --json >"$TEST_DIR/dr.json"
python3 - "$TEST_DIR/dr.json" "$files" <<'PY' || fail "the copy's archive: $(head -c 300 "$TEST_DIR/dr.json")"
import json, sys
entries = json.load(open(sys.argv[1]))
kinds = sorted({e["kind"] for e in entries})
assert kinds == ["wal"] and len(entries) == int(sys.argv[2]), (kinds, len(entries))
PY
obkeep -r "$dr" wal-fetch --stanza main "$name" "$TEST_DIR/fetched-dr" || fail "wal-fetch $name at the site"
cmp -s "$TEST_DIR/fetched-dr" "$wal/$name" || fail "WAL file $name fetched back from the site differs"
pass "a copy to a new site read the source's catalog, carried every WAL file and not the catalog"
