#!/usr/bin/env bash
# wal-fetch --prefetch: after each request a background prefetcher fetches the segments
# ahead into the spool; the next request is served from there, byte for byte what the
# archive holds; at the end of the archive the request fails as before and the spool is
# emptied; restore-db's restore_command prefetches, and the recovery is whole.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../postgres_archiving.sh"
config=$TEST_DIR/obkeep.toml
ob() { as_postgres "$OBKEEP_BIN" "$@"; }
mkdir "$TEST_DIR/work" && chown postgres "$TEST_DIR/work"
spool=$TEST_DIR/work/spool

ob base-backup --config "$config" --database WSO2_OPEN_BANKING_DB --stanza ob >/dev/null
start=$(ob -r "$TEST_DIR/repo" snapshots --tag engine=postgresql-base --json |
  python3 -c "import json,sys; print(json.load(sys.stdin)[-1]['summary']['wal']['start_file'])")
for i in $(seq 1 10); do
  psql_ -p "$port" -d openbank_openbankingdb -c "INSERT INTO consent_events (what) VALUES ('segment $i')" >/dev/null
  last=$(switch_wal)
done

# 1. Requests in order, as a recovery makes them: from the second on, each is waiting in the
# spool, and what it moves out is what a plain fetch gives.
names=$(python3 - "$start" "$last" <<'PY'
import sys
first, last = (int(n[8:16], 16) * 256 + int(n[16:24], 16) for n in sys.argv[1:3])
tl = sys.argv[1][:8]
print(" ".join("%s%08X%08X" % (tl, s // 256, s % 256) for s in range(first, last + 1)))
PY
)
served=0 count=0
for name in $names; do
  waiting=false
  if [ "$count" -gt 0 ]; then
    for _ in $(seq 1 100); do [ -f "$spool/ob/prefetch/$name" ] && break; sleep 0.05; done
    [ -f "$spool/ob/prefetch/$name" ] && waiting=true && served=$((served + 1))
  fi
  ob -r "$TEST_DIR/repo" -q wal-fetch --stanza ob --prefetch 4 --spool "$spool" "$name" "$TEST_DIR/work/via-spool" ||
    fail "wal-fetch --prefetch of $name: $(cat "$spool/ob/prefetch.log" 2>/dev/null)"
  $waiting && sleep 0.2 && [ -f "$spool/ob/prefetch/$name" ] && fail "$name was fetched again after it was taken from the spool"
  ob -r "$TEST_DIR/repo" -q wal-fetch --stanza ob "$name" "$TEST_DIR/work/direct" || fail "wal-fetch of $name"
  cmp -s "$TEST_DIR/work/via-spool" "$TEST_DIR/work/direct" || fail "$name from the spool differs from the archive's"
  count=$((count + 1))
done
[ "$count" -ge 10 ] && [ "$served" = $((count - 1)) ] || fail "only $served of $((count - 1)) requests found their segment prefetched"
pass "$served of $((count - 1)) segments after the first were waiting in the spool, identical to the archive's"

# 2. The end of the archive: not found, exit 1, and nothing stale stays in the spool.
next=$(python3 -c "import sys; n=sys.argv[1]; s=int(n[8:16],16)*256+int(n[16:24],16)+1; print('%s%08X%08X' % (n[:8], s//256, s%256))" "$last")
expect_exit 1 ob -r "$TEST_DIR/repo" wal-fetch --stanza ob --prefetch 4 --spool "$spool" "$next" "$TEST_DIR/work/x"
expect_stderr_matches "WAL file $next is not in the archive \\(stanza ob\\)"
expect_one_line_error
sleep 0.5
[ -z "$(ls "$spool/ob/prefetch")" ] || fail "stale prefetched files after the end of the archive: $(ls "$spool/ob/prefetch")"
expect_exit 2 ob -r "$TEST_DIR/repo" wal-fetch --stanza ob --prefetch 4 "$next" "$TEST_DIR/work/x"
expect_stderr_matches "wal-fetch --prefetch needs --spool DIR"
pass "at the end of the archive: exit 1 naming the file, the spool emptied; --prefetch without a spool refused"

# 3. A recovery through restore-db, whose restore_command prefetches: every segment replayed.
mkdir "$TEST_DIR/pg2" && chown postgres "$TEST_DIR/pg2"
ob restore-db latest --config "$config" --database WSO2_OPEN_BANKING_DB --to-datadir "$TEST_DIR/pg2/data" --stanza ob >/dev/null ||
  fail "restore-db --to-datadir failed"
grep -q "wal-fetch --stanza ''ob'' --prefetch 8 --spool ''$TEST_DIR/pg2/data/obkeep-wal-prefetch'' %f %p" "$TEST_DIR/pg2/data/postgresql.auto.conf" ||
  fail "restore_command does not prefetch: $(grep restore_command "$TEST_DIR/pg2/data/postgresql.auto.conf")"
start_restored "$TEST_DIR/pg2/data"
[ "$(psql_ -p "$restored_port" -d openbank_openbankingdb -At -c "SELECT count(*) FROM consent_events WHERE what LIKE 'segment %'")" = 10 ] ||
  fail "the recovery lacks some of the 10 segments' rows"
log=$TEST_DIR/pg2/data/obkeep-wal-prefetch/ob/prefetch.log
[ -f "$log" ] || fail "no prefetcher ran during the recovery"
[ ! -s "$log" ] || fail "the prefetcher reported: $(cat "$log")"
pass "restore-db's recovery prefetched its WAL and replayed all 10 segments"
