# Sourced by the benchmarks: restores go to a new ext4 file system (default options, so with
# a journal), made on a loop device before every measured restore, so every tool and
# repetition starts from the same state, as on a recovery machine. On the working file
# system the benchmark's own deletions shortly before (the previous restore, the data
# reset) slow whichever tool creates inodes fastest when that file system has no journal:
# ext4 then skips recently freed inodes one by one. `--restore-fs work` (restore_fs=work)
# restores into the working file system instead.
# Uses $work and $restore_fs; restore_fs_setup SOURCE sizes the file system for SOURCE
# (and $restore_extra_kib more, when set: what else a restore writes there).
loopdev= restore_mnt=$work/restore-mnt restore_source= restore_inodes=0
release_restore_fs() {
  mountpoint -q "$restore_mnt" 2>/dev/null && umount "$restore_mnt"
  [ -n "$loopdev" ] && losetup -d "$loopdev"
  loopdev=
  rm -f "$work/restore.img"
}
fresh_target() {
  if [ "$restore_fs" = fresh ]; then
    release_restore_fs
    # Room for the tree as it lies on disk (a million small files take a block each) and an
    # inode for every entry.
    truncate -s "$((($(du -sk "$restore_source" | cut -f1) + ${restore_extra_kib:-0}) * 3 / 2 / 1024 + 1024))M" "$work/restore.img"
    loopdev=$(losetup --find --show --direct-io=on "$work/restore.img")
    mkfs.ext4 -q -F -N "$((restore_inodes * 3 / 2 + 65536))" -E lazy_itable_init=0,lazy_journal_init=0 "$loopdev"
    mkdir -p "$restore_mnt" && mount "$loopdev" "$restore_mnt"
  else
    rm -rf "$restore_mnt" && mkdir -p "$restore_mnt"
  fi
  mkdir -p "$restore_mnt/target"
}
# restore_fs_setup SOURCE: falls back to the working file system where no loop device can be made.
restore_fs_setup() {
  restore_source=$1
  restore_inodes=$(find "$restore_source" | wc -l)
  if [ "$restore_fs" = fresh ] && ! { [ "$(id -u)" = 0 ] && command -v losetup >/dev/null && command -v mkfs.ext4 >/dev/null &&
    fresh_target 2>/dev/null; }; then
    echo "cannot make a loop file system here (needs root, losetup, mkfs.ext4): restoring into $work" >&2
    release_restore_fs 2>/dev/null || true
    restore_fs=work
  fi
}
