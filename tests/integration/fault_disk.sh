#!/usr/bin/env bash
# Real storage faults on a local repository: a file system that fills up, one made
# read-only while a backup writes, a repository the user may not write. Each ends within
# seconds with a one-line error naming the cause, no lock left where the process could
# remove it, a repository that check passes, and a next run that succeeds once the fault
# is gone. Needs root (mounts a small tmpfs).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../faults.sh"
[ "$(id -u)" = 0 ] || fail "needs root to mount a tmpfs"

mnt=$TEST_DIR/mnt
mkdir "$mnt"
mount -t tmpfs -o size=24m tmpfs "$mnt" || fail "cannot mount a tmpfs"
add_cleanup "umount -l '$mnt'"
repo=$mnt/repo
obkeep -r "$repo" init >/dev/null

src=$TEST_DIR/src
mkdir -p "$src"
for i in $(seq 1 40); do head -c 1000000 /dev/urandom >"$src/file$i.bin"; done  # 40 MB > 24 MB

# 1. The file system fills up midway through the first pack saves.
run_with_fault "" 60 obkeep -r "$repo" backup "$src"
expect_clean_failure "backup onto a full file system" 1 "No space left on device"
expect_stderr_matches "$repo/data/"  # names the object
expect_repository_sound "backup onto a full file system" "$repo"
[ "$(obkeep -r "$repo" snapshots --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 0 ] ||
  fail "a snapshot was written by the failed backup"
record_cell "backup" "file system full (tmpfs 24 MB, 40 MB of data)" "exit 1 in $cell_ms ms; names the pack and ENOSPC; no lock; check clean"
# Still full of the failed backup's packs: prune (under its exclusive lock) frees them.
obkeep -r "$repo" prune >/dev/null
mount -o remount,size=160m "$mnt"
obkeep -r "$repo" backup "$src" >/dev/null || fail "the backup after the space came back failed"
obkeep -r "$repo" check --read-data >/dev/null
pass "a full file system: a one-line ENOSPC error, no snapshot, no lock; after growing it the backup succeeds"

# 2. Full again, for a restore's scratch and a prune: the repository itself must survive.
for i in $(seq 41 60); do head -c 1000000 /dev/urandom >"$src/file$i.bin"; done
mount -o remount,size=$(($(du -sm "$mnt" | cut -f1) + 8))m "$mnt"  # 8 MB free for 20 MB of new data
run_with_fault "" 60 obkeep -r "$repo" backup "$src"
expect_clean_failure "second backup onto a full file system" 1 "No space left on device"
expect_repository_sound "second backup onto a full file system" "$repo"
obkeep -r "$repo" restore latest --target "$TEST_DIR/out" >/dev/null
diff -r "$src/file1.bin" "$TEST_DIR/out$src/file1.bin" >/dev/null || fail "the earlier snapshot no longer restores"
record_cell "backup (repository already holds a snapshot)" "file system full" "exit 1 in $cell_ms ms; earlier snapshot restores; check clean"
pass "a full file system never harms what the repository already holds"

# 3. Read-only midway: remounted ro between two pack saves of a running backup.
mount -o remount,size=400m "$mnt"
obkeep -r "$repo" prune >/dev/null
mkdir "$TEST_DIR/fresh"  # new data: what is stored already would save no pack
for i in $(seq 1 64); do head -c 1000000 /dev/urandom >"$TEST_DIR/fresh/part$i"; done
start=${EPOCHREALTIME/./}
"$OBKEEP_BIN" -r "$repo" backup "$TEST_DIR/fresh" >"$TEST_DIR/stdout" 2>"$TEST_DIR/stderr" &
pid=$!
# Once it holds its lock it is reading and chunking; its first pack save is 16 MiB away.
for ((i = 0; i < 400; i++)); do
  [ -n "$(ls -A "$repo/locks")" ] && break
  sleep 0.01
done
# A remount fails while a file is open for writing: retry into a gap between saves.
for ((i = 0; i < 500; i++)); do mount -o remount,ro "$mnt" 2>/dev/null && break; sleep 0.01; done
cell_exit=0
timeout 60 tail --pid="$pid" -f /dev/null || fail "backup did not end after the remount"
wait "$pid" || cell_exit=$?
cell_ms=$(((${EPOCHREALTIME/./} - start) / 1000))
findmnt -no OPTIONS "$mnt" | grep -q '\bro\b' || fail "could not remount read-only in time (backup exit $cell_exit)"
[ "$cell_exit" = 1 ] || fail "backup on a file system made read-only: exit $cell_exit; $(cat "$TEST_DIR/stderr")"
expect_stderr_matches "Read-only file system"
expect_one_line_error
mount -o remount,rw "$mnt"
# The lock could not be removed on a read-only file system; it names a process that is
# gone, so the next command on this host to take a lock removes it.
obkeep -r "$repo" check >/dev/null || fail "check after the read-only fault"
obkeep -r "$repo" backup "$TEST_DIR/fresh" >/dev/null || fail "the backup after remounting read-write failed"
record_cell "backup" "file system remounted read-only midway" "exit 1 in $cell_ms ms; names EROFS; its lock (unremovable then) removed by the next run; check clean; rerun ok"
pass "a file system made read-only midway: a one-line EROFS error; the next backup succeeds"

# 4. A repository the user may not write: nobody backs up into root's repository.
bin=$(binary_for_other_users)
chmod -R a+rX "$mnt" "$src"
as_nobody=(runuser -u nobody -- env OBKEEP_PASSWORD="$OBKEEP_PASSWORD" "$bin")
run_with_fault "" 60 "${as_nobody[@]}" -r "$repo" backup "$src"
expect_clean_failure "backup by a user without write permission" 1 "Permission denied"
expect_repository_sound "backup without permission" "$repo"
record_cell "backup" "repository not writable by the user" "exit 1 in $cell_ms ms; names the lock and EACCES"
chmod -R a+w "$repo/locks" "$repo/index" "$repo/snapshots"
run_with_fault "" 60 "${as_nobody[@]}" -r "$repo" backup "$src" --force
expect_clean_failure "backup by a user who may write locks but not data" 1 "Permission denied"
expect_repository_sound "backup without permission to data/" "$repo"
record_cell "backup" "data/ not writable by the user" "exit 1 in $cell_ms ms; names the pack and EACCES; lock removed; check clean"
# A snapshot forgotten, so that prune has a pack to remove.
mkdir "$TEST_DIR/doomed" && head -c 3000000 /dev/urandom >"$TEST_DIR/doomed/data"
obkeep -r "$repo" backup "$TEST_DIR/doomed" >/dev/null
obkeep -r "$repo" forget "$(obkeep -r "$repo" snapshots --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["id"])')" >/dev/null
run_with_fault "" 60 "${as_nobody[@]}" -r "$repo" prune
expect_clean_failure "prune by a user without permission to data/" 1 "Permission denied"
expect_repository_sound "prune without permission" "$repo"
record_cell "prune" "data/ not writable by the user" "exit 1 in $cell_ms ms; one line; check clean"
pass "missing permissions: one-line EACCES errors naming the object; lock removed"

# 5. A restore target that fills up, and one that runs out of inodes: the restore stops at
# the first file the target cannot take, with one line, leaving only whole files.
many=$TEST_DIR/many
mkdir -p "$many"
for d in $(seq 1 8); do
  mkdir "$many/dir$d"
  for f in $(seq 1 50); do echo "small file $d/$f" >"$many/dir$d/f$f"; done
done
obkeep -r "$repo" backup "$many" "$src" >/dev/null
for target_kind in "size=12m" "size=64m,nr_inodes=200"; do
  target=$TEST_DIR/target-${target_kind%%,*}
  mkdir "$target"
  mount -t tmpfs -o "$target_kind" tmpfs "$target" || fail "cannot mount a tmpfs ($target_kind)"
  add_cleanup "umount -l '$target'"
  run_with_fault "" 60 obkeep -r "$repo" restore latest --target "$target"
  expect_clean_failure "restore into a target with $target_kind" 1 "not restored.*No space left on device|No space left on device.*restore stopped"
  restored=$(expect_only_whole_files "$target")
  [ -z "$(ls -A "$repo/locks")" ] || fail "restore into a full target left a lock"
  record_cell "restore" "target file system full ($target_kind)" "exit 1 in $cell_ms ms; one line naming the file and ENOSPC; $restored whole files, none partial"
done
pass "a restore target that fills up or runs out of inodes: one line, stopped, only whole files"

print_cells
