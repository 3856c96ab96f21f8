#!/usr/bin/env bash
# obkeep copy: snapshots go to a second repository (a DR site) with only what it lacks;
# related and unrelated destinations restore byte for byte; a copy killed at any point
# leaves a destination that check passes and the next copy completes; a damaged source
# blob stops the copy without a snapshot naming it; bad input is a one-line error.
source "$(dirname "$0")/../lib.sh"

count_snapshots() { obkeep -r "$1" snapshots --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }

src=$TEST_DIR/src
mkdir -p "$src/conf" "$src/lib" "$src/empty"
for i in $(seq 1 12); do head -c $((600000 + i * 70000)) /dev/urandom >"$src/lib/bundle$i.jar"; done
for i in $(seq 1 60); do printf '<config id="%d">value %d</config>\n' "$i" "$i" >"$src/conf/file$i.xml"; done
python3 -c "import sys
for i in range(100000): sys.stdout.write('line %d of a carbon log with repeated text\n' % i)" >"$src/wso2carbon.log"
ln -s conf/file1.xml "$src/link"
ln "$src/conf/file2.xml" "$src/hardlink"
chmod 0600 "$src/conf/file3.xml"
chown 1234:5678 "$src/conf/file4.xml"

primary=$TEST_DIR/primary dr=$TEST_DIR/dr
export OBKEEP_PASSWORD=primary-password
obkeep -r "$primary" init >/dev/null
obkeep -r "$primary" backup "$src" --tag daily >/dev/null
head -c 300000 /dev/urandom >"$TEST_DIR/000000010000000000000001"
obkeep -r "$primary" wal-push --stanza ob "$TEST_DIR/000000010000000000000001"
first_id=$(obkeep -r "$primary" snapshots --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["id"])')

# The DR site has its own password; init --copy-params-from makes it related.
dr_env=(env OBKEEP_PASSWORD=dr-password OBKEEP_FROM_PASSWORD=primary-password)
"${dr_env[@]}" "$OBKEEP_BIN" -r "$dr" init --copy-params-from "$primary" >/dev/null
"${dr_env[@]}" "$OBKEEP_BIN" -r "$dr" copy --from-repo "$primary" --json >"$TEST_DIR/copy1.json"
[ "$(json_field snapshots_copied <"$TEST_DIR/copy1.json")" = 1 ] || fail "first copy: $(cat "$TEST_DIR/copy1.json")"
[ "$(json_field related <"$TEST_DIR/copy1.json")" = True ] || fail "init --copy-params-from did not relate the repositories"
first_sent=$(json_field bytes_sent <"$TEST_DIR/copy1.json")
"${dr_env[@]}" "$OBKEEP_BIN" -r "$dr" restore latest --target "$TEST_DIR/out1" >/dev/null
[ "$(tree_manifest "$src")" = "$(tree_manifest "$TEST_DIR/out1$src")" ] || fail "restore from the DR site differs"
"${dr_env[@]}" "$OBKEEP_BIN" -r "$dr" check --read-data >/dev/null || fail "check --read-data of the DR site"
original=$("${dr_env[@]}" "$OBKEEP_BIN" -r "$dr" snapshots --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["original"])')
[ "$original" = "$first_id" ] || fail "the copy does not name its original ($original, want $first_id)"
[ "$(json_field wal_files_copied <"$TEST_DIR/copy1.json")" = 1 ] || fail "the WAL file was not copied: $(cat "$TEST_DIR/copy1.json")"
"${dr_env[@]}" "$OBKEEP_BIN" -r "$dr" wal-fetch --stanza ob 000000010000000000000001 "$TEST_DIR/fetched-wal"
cmp -s "$TEST_DIR/000000010000000000000001" "$TEST_DIR/fetched-wal" || fail "the WAL file fetched from the DR site differs"
pass "a related DR site receives the snapshot and the WAL archive and restores them byte for byte with metadata"

# A small change: the next copy sends little; a repeated copy sends nothing.
printf 'changed\n' >>"$src/conf/file5.xml"
obkeep -r "$primary" backup "$src" --tag daily >/dev/null
"${dr_env[@]}" "$OBKEEP_BIN" -r "$dr" copy --from-repo "$primary" --json >"$TEST_DIR/copy2.json"
[ "$(json_field snapshots_copied <"$TEST_DIR/copy2.json")" = 1 ] || fail "second copy: $(cat "$TEST_DIR/copy2.json")"
[ "$(json_field snapshots_present <"$TEST_DIR/copy2.json")" = 1 ] || fail "second copy did not skip the first snapshot"
second_sent=$(json_field bytes_sent <"$TEST_DIR/copy2.json")
[ "$second_sent" -lt $((first_sent / 20)) ] || fail "an incremental copy sent $second_sent bytes (first: $first_sent)"
"${dr_env[@]}" "$OBKEEP_BIN" -r "$dr" copy --from-repo "$primary" --json >"$TEST_DIR/copy3.json"
[ "$(json_field snapshots_copied <"$TEST_DIR/copy3.json")" = 0 ] || fail "a repeated copy copied again"
[ "$(json_field bytes_sent <"$TEST_DIR/copy3.json")" = 0 ] || fail "a repeated copy sent data"
[ "$(json_field wal_files_copied <"$TEST_DIR/copy3.json")" = 0 ] || fail "a repeated copy copied WAL again"
# Copying back finds every snapshot present (originals are followed through copies).
"${dr_env[@]}" OBKEEP_PASSWORD=primary-password OBKEEP_FROM_PASSWORD=dr-password \
  "$OBKEEP_BIN" -r "$primary" copy --from-repo "$dr" --json >"$TEST_DIR/back.json"
[ "$(json_field snapshots_copied <"$TEST_DIR/back.json")" = 0 ] || fail "copying back duplicated snapshots"
pass "incremental copies send only the change ($second_sent of $first_sent bytes), repeats send nothing"

# Selection: --tag and latest.
obkeep -r "$primary" backup "$src" --tag weekly >/dev/null
tagged=$TEST_DIR/tagged
"${dr_env[@]}" "$OBKEEP_BIN" -r "$tagged" init --copy-params-from "$primary" >/dev/null
"${dr_env[@]}" "$OBKEEP_BIN" -r "$tagged" copy --from-repo "$primary" --tag weekly -q
[ "$(OBKEEP_PASSWORD=dr-password count_snapshots "$tagged")" = 1 ] || fail "--tag weekly copied other snapshots"
"${dr_env[@]}" "$OBKEEP_BIN" -r "$tagged" copy --from-repo "$primary" latest --tag daily -q
[ "$(OBKEEP_PASSWORD=dr-password count_snapshots "$tagged")" = 2 ] || fail "latest --tag daily"
pass "--tag and latest select what is copied"

# copy --init: one command makes the destination (related, with its own password) and fills
# it; run again it opens it. A folder that holds other files is refused and left alone; a
# copy without --init to no repository says so.
made=$TEST_DIR/made
"${dr_env[@]}" "$OBKEEP_BIN" -r "$made" copy --init --from-repo "$primary" --json >"$TEST_DIR/made.json"
[ "$(json_field created <"$TEST_DIR/made.json")" = True ] || fail "copy --init: $(cat "$TEST_DIR/made.json")"
[ "$(json_field related <"$TEST_DIR/made.json")" = True ] || fail "copy --init made an unrelated repository"
[ "$(OBKEEP_PASSWORD=dr-password count_snapshots "$made")" = "$(count_snapshots "$primary")" ] || fail "copy --init copied too few snapshots"
"${dr_env[@]}" "$OBKEEP_BIN" -r "$made" check --read-data >/dev/null || fail "check --read-data after copy --init"
"${dr_env[@]}" "$OBKEEP_BIN" -r "$made" copy --init --from-repo "$primary" --json >"$TEST_DIR/made2.json"
[ "$(json_field created <"$TEST_DIR/made2.json")" = False ] || fail "copy --init made an existing repository again"
[ "$(json_field snapshots_copied <"$TEST_DIR/made2.json")" = 0 ] || fail "copy --init again copied again"
mkdir "$TEST_DIR/occupied" && echo keep >"$TEST_DIR/occupied/notes.txt"
expect_exit 1 "${dr_env[@]}" "$OBKEEP_BIN" -r "$TEST_DIR/occupied" copy --init --from-repo "$primary"
expect_stderr_matches "not empty.*$TEST_DIR/occupied"
[ "$(ls -A "$TEST_DIR/occupied")" = notes.txt ] || fail "copy --init wrote into a folder holding other files"
expect_exit 10 "${dr_env[@]}" "$OBKEEP_BIN" -r "$TEST_DIR/nothing-here" copy --from-repo "$primary"
expect_stderr_matches "no repository at .*nothing-here"
[ ! -e "$TEST_DIR/nothing-here" ] || fail "copy without --init created something"
expect_exit 1 "${dr_env[@]}" "$OBKEEP_BIN" -r "$TEST_DIR/mistyped" copy --init --from-repo "$primary" 0badc0de
expect_stderr_matches "0badc0de"
[ ! -e "$TEST_DIR/mistyped" ] || fail "copy --init of a snapshot that does not exist created the destination"
pass "copy --init creates a related destination and fills it in one command; refuses a folder holding other files"

# An unrelated repository (plain init): every blob re-hashed, trees rewritten, still exact.
unrelated=$TEST_DIR/unrelated
obkeep -r "$unrelated" init >/dev/null
obkeep -r "$unrelated" copy --from-repo "$primary" --json >"$TEST_DIR/unrelated.json" 2>"$TEST_DIR/unrelated.err"
[ "$(json_field related <"$TEST_DIR/unrelated.json")" = False ] || fail "a plain init was taken as related"
[ "$(json_field snapshots_copied <"$TEST_DIR/unrelated.json")" = 3 ] || fail "unrelated copy: $(cat "$TEST_DIR/unrelated.json")"
grep -q "not related" "$TEST_DIR/unrelated.err" || fail "no notice that the repositories are unrelated"
obkeep -r "$unrelated" restore latest --target "$TEST_DIR/out2" >/dev/null
[ "$(tree_manifest "$src")" = "$(tree_manifest "$TEST_DIR/out2$src")" ] || fail "restore from the unrelated copy differs"
obkeep -r "$unrelated" check --read-data >/dev/null || fail "check --read-data of the unrelated copy"
obkeep -r "$unrelated" copy --from-repo "$primary" --json >"$TEST_DIR/unrelated2.json" 2>/dev/null
[ "$(json_field snapshots_copied <"$TEST_DIR/unrelated2.json")" = 0 ] || fail "unrelated repeat copied again"
[ "$(json_field wal_files_copied <"$TEST_DIR/unrelated.json")" = 1 ] || fail "unrelated copy: no WAL file copied"
[ "$(json_field wal_files_copied <"$TEST_DIR/unrelated2.json")" = 0 ] || fail "unrelated repeat copied WAL again"
obkeep -r "$unrelated" wal-fetch --stanza ob 000000010000000000000001 "$TEST_DIR/fetched-wal2"
cmp -s "$TEST_DIR/000000010000000000000001" "$TEST_DIR/fetched-wal2" || fail "the WAL file fetched from the unrelated copy differs"
pass "an unrelated repository receives exact copies, WAL archive included"

# kill -9 at several points of a copy: check passes, the next copy completes.
for i in $(seq 1 30); do head -c 1000000 /dev/urandom >"$src/lib/extra$i.bin"; done
obkeep -r "$primary" backup "$src" >/dev/null
crash=$TEST_DIR/crash
"${dr_env[@]}" "$OBKEEP_BIN" -r "$crash" init --copy-params-from "$primary" >/dev/null
for delay in 0.05 0.15 0.3 0.5; do
  "${dr_env[@]}" "$OBKEEP_BIN" -r "$crash" copy --from-repo "$primary" -q >/dev/null 2>&1 &
  pid=$!
  sleep "$delay"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  "${dr_env[@]}" "$OBKEEP_BIN" -r "$crash" check >/dev/null 2>"$TEST_DIR/check.err" ||
    fail "check failed after a copy killed at ${delay}s: $(cat "$TEST_DIR/check.err")"
done
"${dr_env[@]}" "$OBKEEP_BIN" -r "$crash" copy --from-repo "$primary" -q
[ "$(OBKEEP_PASSWORD=dr-password count_snapshots "$crash")" = "$(count_snapshots "$primary")" ] || fail "copy after crashes is incomplete"
"${dr_env[@]}" "$OBKEEP_BIN" -r "$crash" restore latest --target "$TEST_DIR/out3" >/dev/null
[ "$(tree_manifest "$src")" = "$(tree_manifest "$TEST_DIR/out3$src")" ] || fail "restore after killed copies differs"
"${dr_env[@]}" "$OBKEEP_BIN" -r "$crash" prune >/dev/null
"${dr_env[@]}" "$OBKEEP_BIN" -r "$crash" check --read-data >/dev/null || fail "check --read-data after prune"
pass "copies killed at any point leave a consistent destination; the next copy completes"

# A damaged blob in the source: the copy fails naming it, and writes no snapshot.
damaged=$TEST_DIR/damaged
cp -a "$primary" "$damaged"
pack=$(find "$damaged/data" -type f -size +1M -print -quit)
python3 - "$pack" <<'EOF'
import sys
path = sys.argv[1]
with open(path, "r+b") as f:
    f.seek(1000)
    byte = f.read(1)
    f.seek(1000)
    f.write(bytes([byte[0] ^ 0x01]))
EOF
target=$TEST_DIR/from-damaged
obkeep -r "$target" init --copy-params-from "$damaged" >/dev/null
expect_exit 1 obkeep -r "$target" copy --from-repo "$damaged"
expect_stderr_matches "blob [0-9a-f]+ in pack [0-9a-f]+ is damaged"
[ "$(count_snapshots "$target")" -lt "$(count_snapshots "$damaged")" ] || fail "snapshots were copied from damaged data"
obkeep -r "$target" check >/dev/null || fail "check of the destination after a failed copy"
pass "damaged source data stops the copy without a snapshot that names it"

# Bad input: one-line errors with the contract's exit codes.
expect_exit 12 env OBKEEP_FROM_PASSWORD=wrong "$OBKEEP_BIN" -r "$unrelated" copy --from-repo "$primary"
expect_one_line_error
expect_exit 10 obkeep -r "$unrelated" copy --from-repo "$TEST_DIR/no-such-repository"
expect_one_line_error
expect_exit 2 obkeep -r "$primary" copy --from-repo "$primary"
expect_one_line_error
expect_stderr_matches "same repository"
expect_exit 1 obkeep -r "$unrelated" copy --from-repo "$primary" 0123abcd
expect_one_line_error
expect_exit 2 obkeep -r "$unrelated" copy
expect_one_line_error
pass "bad input gives one-line errors with the contract's exit codes"
