#!/usr/bin/env bash
# Retention of a PostgreSQL WAL archive: base backups record where their replay starts;
# forget by policy keeps the base a pitr_window needs and removes the WAL no kept base
# backup needs (and only that); a recovery inside what is kept works, one outside is refused
# naming what is reachable; check names a hole in the archive.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../postgres_archiving.sh"
config=$TEST_DIR/obkeep.toml
ob() { as_postgres "$OBKEEP_BIN" "$@"; }
mkdir "$TEST_DIR/work" && chown postgres "$TEST_DIR/work"
fetch() { ob -r "$TEST_DIR/repo" -q wal-fetch --stanza ob "$1" "$TEST_DIR/work/$1" 2>/dev/null; }
insert() { psql_ -p "$port" -d openbank_openbankingdb -c "INSERT INTO consent_events (what) VALUES ('$1')"; }

# 1. Two base backups with archived WAL before, between and after them.
old_segment=$(switch_wal)
ob base-backup --config "$config" --database WSO2_OPEN_BANKING_DB --stanza ob >/dev/null
insert "after the first base"
between=$(switch_wal)
before_second=$(utc_now)
sleep 1
ob base-backup --config "$config" --database WSO2_OPEN_BANKING_DB --stanza ob >/dev/null
starts=$(ob -r "$TEST_DIR/repo" snapshots --tag engine=postgresql-base --json |
  python3 -c "import json,sys; print(' '.join(s['summary']['wal']['start_file'] for s in json.load(sys.stdin) if 'stanza=ob' in s['tags']))")
read -r first_start second_start <<<"$starts"
[[ "$first_start" =~ ^[0-9A-F]{24}$ && "$second_start" > "$first_start" && "$second_start" > "$between" ]] ||
  fail "the base backups do not record where their replay starts: '$starts' (segment between them: $between)"
insert "first write"
sleep 1
target=$(utc_now)
sleep 1
insert "second write"
newest=$(switch_wal)
ob check --config "$config" >"$TEST_DIR/check.out" 2>&1 || fail "check: $(cat "$TEST_DIR/check.out")"
grep -q "warning" "$TEST_DIR/check.out" && fail "check warns about a whole archive: $(cat "$TEST_DIR/check.out")"
pass "base backups record their WAL start ($first_start, $second_start); check finds the archive whole"

# 2. keep_last = 1 with a pitr_window longer than the history: the first base stays (the
# window's points before the second are reachable only from it), and so does every WAL
# file from its start; only what precedes it goes.
cat >>"$config" <<'TOML'
[policy.databases]
keep_last = 1
pitr_window = "1h"
TOML
ob forget --config "$config" --json >"$TEST_DIR/forget1.json" || fail "forget by policy failed"
python3 - "$TEST_DIR/forget1.json" "$first_start" "$old_segment" <<'PY' || fail "forget with the window: $(cat "$TEST_DIR/forget1.json")"
import json, sys
out, start, old = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
assert out["removed"] == 0, out
assert any("pitr_window" in s["reasons"] for s in out["snapshots"]), out
removed = [a["file"] for a in out["archive_removed"]]
assert old in removed and all(f[8:24] < start[8:24] for f in removed), (removed, start)
PY
! fetch "$old_segment" || fail "$old_segment, older than every base backup, is still archived"
fetch "$between" || fail "$between was removed although the window needs it"
fetch "$first_start" || fail "the first base's start $first_start was removed although the window needs it"
pass "a pitr_window longer than the history keeps the oldest base backup and its WAL; $old_segment before it goes"

# 3. A window of one second: the second base is the window's; the first goes, and with it
# the WAL before the second base's start, and nothing else.
sed -i 's/^pitr_window = "1h"$/pitr_window = "1s"/' "$config"
sleep 1
ob forget --config "$config" --prune --json >"$TEST_DIR/forget2.json" || fail "forget by policy failed"
head -n 1 "$TEST_DIR/forget2.json" >"$TEST_DIR/forget2.first.json"
python3 - "$TEST_DIR/forget2.first.json" "$second_start" <<'PY' || fail "forget with a short window: $(cat "$TEST_DIR/forget2.json")"
import json, sys
out, start = json.load(open(sys.argv[1])), sys.argv[2]
removed = [a["file"] for a in out["archive_removed"]]
assert out["removed"] == 1, out
assert removed and all(a["stanza"] == "ob" for a in out["archive_removed"]), out
assert all(f[8:24] < start[8:24] for f in removed), (removed, start)
assert not any(f.endswith(".history") for f in removed), removed
PY
removed=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['archive_removed']))" "$TEST_DIR/forget2.first.json")
! fetch "$between" || fail "$between (before the kept base's start) is still archived"
fetch "$second_start" || fail "the kept base's start $second_start was removed"
fetch "$newest" || fail "the newest segment $newest was removed"
ob check --config "$config" >"$TEST_DIR/check.out" 2>&1 || fail "check after forget: $(cat "$TEST_DIR/check.out")"
grep -q "warning" "$TEST_DIR/check.out" && fail "check warns after retention: $(cat "$TEST_DIR/check.out")"
pass "forget removed the first base and the $removed WAL files before the kept base's start; check is clean"

# 4. Inside what is kept: recovered. Before it, or past the archive's end: refused at once.
mkdir "$TEST_DIR/pg2" && chown postgres "$TEST_DIR/pg2"
ob restore-db latest --config "$config" --database WSO2_OPEN_BANKING_DB --to-datadir "$TEST_DIR/pg2/data" \
  --until "$target" --stanza ob >/dev/null || fail "restore inside the kept window failed"
start_restored "$TEST_DIR/pg2/data"
rows=$(psql_ -p "$restored_port" -d openbank_openbankingdb -At -c "SELECT string_agg(what, ',' ORDER BY id) FROM consent_events WHERE what LIKE '%write'")
[ "$rows" = "first write" ] || fail "recovered to $target, want only the first write, got: '$rows'"
expect_exit 1 ob restore-db latest --config "$config" --database WSO2_OPEN_BANKING_DB --to-datadir "$TEST_DIR/pg2/old" \
  --until "$before_second" --stanza ob
expect_stderr_matches "no base backup of WSO2_OPEN_BANKING_DB taken before .*: the oldest point reachable is "
expect_one_line_error
future=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)
expect_exit 1 ob restore-db latest --config "$config" --database WSO2_OPEN_BANKING_DB --to-datadir "$TEST_DIR/pg2/future" \
  --until "$future" --stanza ob
expect_stderr_matches "--until .* is past the end of the WAL archive \\(stanza ob\\): from base backup [0-9a-f]+ the reachable points are .* \\($newest, the newest archived segment\\)"
expect_one_line_error
[ ! -e "$TEST_DIR/pg2/old" ] && [ ! -e "$TEST_DIR/pg2/future" ] || fail "a refused restore wrote a data directory"
pass "a point inside the kept window recovers; before it and past the archive are refused, nothing written"

# 5. A hole: the entry of one archived segment removed from the store. check names it.
insert "a"; switch_wal >/dev/null
sleep 1.1; touch "$TEST_DIR/mark1"; sleep 1.1
insert "b"; lost=$(switch_wal)
sleep 1.1; touch "$TEST_DIR/mark2"; sleep 1.1
insert "c"; switch_wal >/dev/null
entry=$(find "$TEST_DIR/repo/archive" -type f -newer "$TEST_DIR/mark1" ! -newer "$TEST_DIR/mark2")
[ "$(echo "$entry" | wc -l)" = 1 ] && [ -n "$entry" ] || fail "cannot tell $lost's entry: '$entry'"
rm "$entry"
ob check --config "$config" >"$TEST_DIR/check.out" 2>&1 || fail "check failed on a hole, which is a warning: $(cat "$TEST_DIR/check.out")"
grep -q "warning: the WAL archive of stanza ob lacks $lost: a recovery cannot pass " "$TEST_DIR/check.out" ||
  fail "check does not name the hole at $lost: $(cat "$TEST_DIR/check.out")"
pass "check names the hole at $lost"
