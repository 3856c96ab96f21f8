#!/usr/bin/env bash
# obkeep serve behind a private sshd, as the forced command of SSH keys: a repository at
# ssh://host/PATH backs up, restores byte for byte, checks and prunes; an append-only site
# (the backup key) takes copies, restores and drills, while forget --prune, a delete and an
# overwrite of a pack and of a snapshot (crafted requests, tests/serve_request.py) are each
# refused in one line, the site checking clean afterwards with every snapshot; the admin
# key prunes; a connection killed mid-backup is retried; a wrong path and an unreachable
# server are one-line errors within seconds.
source "$(dirname "$0")/../lib.sh"

count_snapshots() { obkeep -r "$1" snapshots --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }

start_sshd
servers=$OBKEEP_SOURCE_DIR/tests/servers
site=$TEST_DIR/site
bash "$servers/sshd.sh" add-key "$sshd" backup "$OBKEEP_BIN serve --stdio --append-only --repo $site"
bash "$servers/sshd.sh" add-key "$sshd" admin "$OBKEEP_BIN serve --stdio --repo $site"
as_backup() { OBKEEP_SSH_CONFIG=$sshd/ssh_config_backup "$@"; }
as_admin() { OBKEEP_SSH_CONFIG=$sshd/ssh_config_admin "$@"; }
crafted() { python3 "$OBKEEP_SOURCE_DIR/tests/serve_request.py" "$sshd/ssh_config_backup" "$user@127.0.0.1" "$port" "$@"; }

src=$TEST_DIR/src
mkdir -p "$src/lib" "$src/conf"
for i in 1 2 3; do head -c $((700000 * i)) /dev/urandom >"$src/lib/bundle$i.jar"; done
for i in $(seq 1 40); do printf '<config id="%d">value %d</config>\n' "$i" "$i" >"$src/conf/file$i.xml"; done
ln -s conf/file1.xml "$src/link"
chmod 0600 "$src/conf/file3.xml"

# 1. Without a forced command (the plain key, obkeep found through OBKEEP_REMOTE_COMMAND):
# the URL's path is the repository; everything works, prune included; the local layout.
export OBKEEP_REMOTE_COMMAND=$OBKEEP_BIN
plain="ssh://$user@127.0.0.1:$port$TEST_DIR/plain"
export OBKEEP_SSH_CONFIG=$sshd/ssh_config
obkeep -r "$plain" init >/dev/null
[ -f "$TEST_DIR/plain/config" ] && [ -d "$TEST_DIR/plain/data/ff" ] || fail "init over ssh:// did not make the local layout"
expect_exit 1 obkeep -r "$plain" init
expect_one_line_error
expect_stderr_matches "already exists"
obkeep -r "$plain" backup "$src" >/dev/null
obkeep -r "$plain" restore latest --target "$TEST_DIR/out1" >/dev/null
[ "$(tree_manifest "$src")" = "$(tree_manifest "$TEST_DIR/out1$src")" ] || fail "restore over ssh:// differs"
head -c 1500000 /dev/urandom >"$src/lib/bundle1.jar"
obkeep -r "$plain" backup "$src" >/dev/null
echo partial >"$TEST_DIR/plain/data/00/.tmp-00112233aabbccdd"
obkeep -r "$plain" forget --keep-last 1 --prune >/dev/null
[ "$(count_snapshots "$plain")" = 1 ] || fail "forget --prune over ssh:// left $(count_snapshots "$plain") snapshots"
[ ! -e "$TEST_DIR/plain/data/00/.tmp-00112233aabbccdd" ] || fail "prune left a temporary"
obkeep -r "$plain" check --read-data >/dev/null || fail "check --read-data over ssh://"
[ -z "$(ls "$TEST_DIR/plain/locks")" ] || fail "a lock left behind"
pass "init, backup, restore (byte for byte), forget --prune and check --read-data over ssh://host/PATH"
unset OBKEEP_SSH_CONFIG

# 2. The append-only site, reached with the backup key at ssh://host/ (the key names the
# repository): a DR site of a local primary, filled by copy, restored from, drilled.
cd "$TEST_DIR"  # drills write their HTML report here
obkeep sample-deployment "$TEST_DIR/dep" >/dev/null
deployment_config "$TEST_DIR/dep/wso2-obkm-1.5.0" "$TEST_DIR/dep/wso2-obam-1.5.0"
dr="ssh://$user@127.0.0.1:$port/"
as_backup env OBKEEP_FROM_PASSWORD="$OBKEEP_PASSWORD" "$OBKEEP_BIN" -r "$dr" init --copy-params-from "$TEST_DIR/repo" >/dev/null
[ -f "$site/config" ] || fail "init through the append-only key made no repository at $site"
cat >>"$TEST_DIR/obkeep.toml" <<TOML
[policy.databases]
rpo = "1h"
rto = "30m"
[policy.artifacts]
rpo = "4h"
[[dr_site]]
name = "dr"
url = "$dr"
TOML
obkeep backup --config "$TEST_DIR/obkeep.toml" -q
obkeep -r "$TEST_DIR/repo" backup "$src" --tag plain -q
as_backup obkeep copy --config "$TEST_DIR/obkeep.toml" --site dr -q
as_backup env OBKEEP_FROM_PASSWORD="$OBKEEP_PASSWORD" "$OBKEEP_BIN" -r "$dr" copy --from-repo "$TEST_DIR/repo" --tag plain -q
primary_count=$(count_snapshots "$TEST_DIR/repo")
[ "$(as_backup count_snapshots "$dr")" = "$primary_count" ] || fail "the site holds $(as_backup count_snapshots "$dr") snapshots, the primary $primary_count"
plain_id=$(as_backup obkeep -r "$dr" snapshots --tag plain --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["id"])')
as_backup obkeep -r "$dr" restore "$plain_id" --target "$TEST_DIR/out2" >/dev/null
[ "$(tree_manifest "$src")" = "$(tree_manifest "$TEST_DIR/out2$src")" ] || fail "restore from the append-only site differs"
as_backup expect_exit 0 obkeep drill --config "$TEST_DIR/obkeep.toml" --site dr --json
python3 -c "import json; d = json.loads(open('$TEST_DIR/stdout').read().splitlines()[-1]); assert d['verdict'] == 'passed' and d['site'] == 'dr', d" ||
  fail "drill from the append-only site: $(tail -n 1 "$TEST_DIR/stdout")"
[ -z "$(ls "$site/locks")" ] || fail "a lock left on the append-only site: $(ls "$site/locks")"
pass "through the append-only key: init, copy --site, copy --from-repo, restore (byte for byte), drill --site; no lock left"

# WAL archiving into the append-only site: an archive entry may be created, and a push
# of the same file again (PostgreSQL after a crash) succeeds without replacing it.
head -c 200000 /dev/urandom >"$TEST_DIR/000000010000000000000001"
as_backup obkeep -r "$dr" -q wal-push --stanza ob "$TEST_DIR/000000010000000000000001"
as_backup obkeep -r "$dr" -q wal-push --stanza ob "$TEST_DIR/000000010000000000000001"
as_backup obkeep -r "$dr" -q wal-fetch --stanza ob 000000010000000000000001 "$TEST_DIR/fetched-wal"
cmp -s "$TEST_DIR/000000010000000000000001" "$TEST_DIR/fetched-wal" || fail "the WAL file fetched from the append-only site differs"
head -c 200000 /dev/urandom >"$TEST_DIR/000000010000000000000001"
as_backup expect_exit 1 obkeep -r "$dr" wal-push --stanza ob "$TEST_DIR/000000010000000000000001"
expect_stderr_matches "WAL file 000000010000000000000001 \(stanza ob\) is already archived with different content"
pass "wal-push and wal-fetch through the append-only key; the same file again succeeds, other content fails"

# 3. What the backup key cannot do: each refused in one line naming the site, nothing gone.
snapshot=$(ls "$site/snapshots" | head -n 1)
pack_path=$(find "$site/data" -type f -name '[0-9a-f]*' -print -quit)
pack=$(basename "$pack_path")
before=$(cd "$site" && find . -type f ! -path './locks/*' -exec sha256sum {} + | sort)
as_backup expect_exit 1 obkeep -r "$dr" forget --keep-last 1 --prune
expect_one_line_error
expect_stderr_matches "^obkeep: ssh://$user@127\.0\.0\.1:$port/: the site is append-only: refused to forget and prune"
as_backup expect_exit 1 obkeep -r "$dr" prune
expect_one_line_error
expect_stderr_matches "append-only: refused to prune"
echo other-password >"$TEST_DIR/other.pw"
as_backup obkeep -r "$dr" key add --new-password-file "$TEST_DIR/other.pw" >/dev/null
other_key=$(ls -t "$site/keys" | head -n 1)
as_backup expect_exit 1 obkeep -r "$dr" key remove "$other_key"
expect_one_line_error
expect_stderr_matches "the site is append-only: refused to remove key ${other_key:0:8}"
[ -f "$site/keys/$other_key" ] || fail "the key was removed"
[ "$(crafted remove snapshot "$snapshot")" = "refused refused to remove snapshot ${snapshot:0:8}…" ] || fail "a crafted remove of a snapshot: $(crafted remove snapshot "$snapshot")"
echo "not the snapshot" >"$TEST_DIR/junk"
[ "$(crafted save snapshot "$snapshot" "$TEST_DIR/junk")" = "refused refused to overwrite snapshot ${snapshot:0:8}… with different bytes" ] ||
  fail "a crafted overwrite of a snapshot: $(crafted save snapshot "$snapshot" "$TEST_DIR/junk")"
crafted save pack "$pack" "$TEST_DIR/junk" | grep -q "^refused refused to overwrite pack ${pack:0:8}" || fail "a crafted overwrite of a pack was not refused"
cp "$pack_path" "$TEST_DIR/same-pack"
[ "$(crafted save pack "$pack" "$TEST_DIR/same-pack")" = "ok " ] || fail "a save of the same bytes (a retry) was refused"
crafted remove lock "$(printf '%064d' 0)" | grep -q "^refused refused to remove lock" || fail "a crafted remove of another's lock was not refused"
entry=$(ls "$site/archive" | head -n 1)
[ "$(crafted save archive "$entry" "$TEST_DIR/junk")" = "refused refused to overwrite archive entry ${entry:0:8}… with different bytes" ] ||
  fail "a crafted overwrite of an archive entry: $(crafted save archive "$entry" "$TEST_DIR/junk")"
[ "$(crafted remove archive "$entry")" = "refused refused to remove archive entry ${entry:0:8}…" ] ||
  fail "a crafted remove of an archive entry: $(crafted remove archive "$entry")"
crafted load pack "../../../../etc/passwd" | grep -q "^bad_request .*invalid pack name" || fail "a path outside the repository was not refused"
after=$(cd "$site" && find . -type f ! -path './locks/*' ! -path "./keys/*" -exec sha256sum {} + | sort)
[ "$(echo "$before" | grep -v ' ./keys/')" = "$after" ] || fail "the site changed: $(diff <(echo "$before") <(echo "$after") | head -5)"
as_backup obkeep -r "$dr" check --read-data >/dev/null || fail "check --read-data of the append-only site"
[ "$(as_backup count_snapshots "$dr")" = "$primary_count" ] || fail "a snapshot went missing"
pass "the backup key: forget --prune, prune, key remove, crafted remove, overwrite of a snapshot, a pack and an archive entry refused; the site checks clean with every snapshot"

# 4. The admin key (another forced command, without --append-only) prunes.
as_admin obkeep -r "$dr" forget "$plain_id" --prune -q
[ "$(as_admin count_snapshots "$dr")" = $((primary_count - 1)) ] || fail "the admin key's forget left $(as_admin count_snapshots "$dr") of $primary_count snapshots"
as_admin obkeep -r "$dr" check >/dev/null || fail "check after the admin's prune"
pass "the admin key forgets and prunes"

# 5. A connection killed mid-backup is retried on a new one; the backup completes.
new=$TEST_DIR/new
mkdir -p "$new"
for i in $(seq 1 8); do head -c $((2 * 1024 * 1024)) /dev/urandom >"$new/part$i.bin"; done
start_timed killed 120 env OBKEEP_SSH_CONFIG="$sshd/ssh_config_backup" "$OBKEEP_BIN" -r "$dr" --limit-upload 4096 backup -q "$new"
servers_of() { pgrep -f "serve --stdio --append-only --repo $site" || true; }
for i in $(seq 1 100); do [ -n "$(servers_of)" ] && [ -n "$(find "$site/data" -name '.tmp-*' 2>/dev/null)" ] && break; sleep 0.1; done
killed=$(servers_of)
[ -n "$killed" ] || fail "no obkeep serve process to kill"
for pid in $killed; do kill -9 "$pid" 2>/dev/null || true; done
wait_timed killed
[ "$RUN_EXIT" = 0 ] || fail "a backup whose connections were killed: exit $RUN_EXIT: $(cat "$TEST_DIR/stderr")"
as_backup obkeep -r "$dr" check --read-data >/dev/null || fail "check after the killed connections"
as_backup obkeep -r "$dr" restore latest --include "$new" --target "$TEST_DIR/out3" >/dev/null
diff -r "$new" "$TEST_DIR/out3$new" >/dev/null || fail "the retried backup does not restore"
pass "connections killed mid-backup: retried, the backup completed in ${RUN_SECONDS}s, the site checks clean"

# 6. A path the key does not serve, and a server that cannot be reached: one line, in seconds.
as_backup expect_exit 1 obkeep -r "ssh://$user@127.0.0.1:$port/srv/elsewhere" snapshots
expect_one_line_error
expect_stderr_matches "this server serves $site, not /srv/elsewhere"
free_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
run_timed unreachable 30 env OBKEEP_SSH_CONFIG="$sshd/ssh_config_backup" "$OBKEEP_BIN" -r "ssh://$user@127.0.0.1:$free_port/" snapshots
[ "$RUN_EXIT" = 10 ] || fail "an unreachable server: exit $RUN_EXIT, want 10"
expect_one_line_error
expect_stderr_matches "127\.0\.0\.1:$free_port"
expect_seconds_under 10
OBKEEP_REMOTE_COMMAND=/nonexistent/obkeep OBKEEP_SSH_CONFIG=$sshd/ssh_config expect_exit 1 "$OBKEEP_BIN" -r "$plain" snapshots
expect_one_line_error
expect_stderr_matches "cannot start obkeep serve on .*OBKEEP_REMOTE_COMMAND"
pass "a path the key does not serve, an unreachable server and a missing remote obkeep: one-line errors"
