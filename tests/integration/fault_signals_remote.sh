#!/usr/bin/env bash
# SIGINT and SIGTERM while obkeep works on a remote site (a DR site is one), over SFTP and
# over `obkeep serve` (ssh://): exit 130 within 10 s, and nothing of ours left on the
# server: no lock, no temporary. The removals are sent after the signal and must still reach
# the server (CleanupAfterSignal); over SFTP they are waited for, since a server drops the
# requests it has not read when the session ends. Backups to the site, copies to it and
# restores from it, each stopped at several moments of real work.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../faults.sh"

fault_fixture
start_sshd
export OBKEEP_SSH_CONFIG=$sshd/ssh_config OBKEEP_REMOTE_COMMAND=$OBKEEP_BIN

# fresh_bundles NAME: 12 MB that no repository has yet, so that the next run has packs to send.
fresh_bundles() {
  rm -rf "$src/new"
  mkdir -p "$src/new"
  for i in $(seq 1 12); do head -c 1000000 /dev/urandom >"$src/new/bundle$1-$i.jar"; done
}

# expect_stopped_cleanly WHAT SIGNAL: exit 130 (0 when the work had finished first) within
# 10 s, and the site ($site at $site_dir) sound.
expect_stopped_cleanly() {
  case $cell_exit in 0 | 130) ;; *) fail "$1: exit $cell_exit: $(cat "$TEST_DIR/stderr")" ;; esac
  [ "$cell_ms" -lt 10000 ] || fail "$1: took $cell_ms ms to stop"
  expect_repository_sound "$1" "$site_dir" "$site"
  record_cell "$1" "SIG$2" "exit $cell_exit in $cell_ms ms; no lock or temporary at the site; check clean"
}

for scheme in sftp ssh; do
  site_dir=$TEST_DIR/site-$scheme
  site="$scheme://$user@127.0.0.1:$port$site_dir"
  obkeep -r "$site" init --copy-params-from "$repo" >/dev/null
  round=0
  for delay in 0 0.2 0.5 1.0; do
    round=$((round + 1))
    fresh_bundles "$scheme-b$round"
    signal_during TERM "locked $site_dir && sleep $delay" - obkeep -r "$site" backup "$src"
    expect_stopped_cleanly "backup to the $scheme site, ${delay}s in" TERM

    fresh_bundles "$scheme-c$round"
    obkeep -r "$repo" backup "$src" >/dev/null
    signal_during INT "locked $site_dir && sleep $delay" - obkeep -r "$site" copy --from-repo "$repo"
    expect_stopped_cleanly "copy to the $scheme site, ${delay}s in" INT
    expect_repository_sound "copy to the $scheme site, ${delay}s in (the primary)" "$repo"
  done
  pass "$scheme: SIGTERM/SIGINT during backups and copies to the site: stopped within 10 s, no lock or temporary left there"

  obkeep -r "$site" copy --from-repo "$repo" >/dev/null
  for delay in 0 0.3; do
    rm -rf "$TEST_DIR/out"
    signal_during TERM "locked $site_dir && sleep $delay" - obkeep -r "$site" restore latest --target "$TEST_DIR/out"
    expect_stopped_cleanly "restore from the $scheme site, ${delay}s in" TERM
    expect_only_whole_files "$TEST_DIR/out" >/dev/null
  done
  obkeep -r "$site" check --read-data >/dev/null || fail "check --read-data of the $scheme site after the signals"
  pass "$scheme: SIGTERM during restores from the site: stopped within 10 s, no partial file, the site sound"
done

print_cells
