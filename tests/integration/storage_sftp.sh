#!/usr/bin/env bash
# The SFTP backend against a private OpenSSH sshd: a repository over sftp:// backs up,
# restores byte for byte, checks, forgets and prunes, receives a copy from a local repository
# (a DR site) and restores it; it has the local layout; unknown or changed host keys, an
# unreachable port and a wrong password are refused with one-line errors.
source "$(dirname "$0")/../lib.sh"

count_snapshots() { obkeep -r "$1" snapshots --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }

unset SSH_AUTH_SOCK  # the identity file of the test config, not whatever agent runs here
sshd=$TEST_DIR/sshd
bash "$OBKEEP_SOURCE_DIR/tests/servers/sshd.sh" start "$sshd"
add_cleanup "bash '$OBKEEP_SOURCE_DIR/tests/servers/sshd.sh' stop '$sshd'"
port=$(cat "$sshd/port")
export OBKEEP_SSH_CONFIG=$sshd/ssh_config
server="sftp://$(id -un)@127.0.0.1:$port"

src=$TEST_DIR/src
mkdir -p "$src/lib" "$src/conf" "$src/empty"
for i in 1 2 3; do head -c $((700000 * i)) /dev/urandom >"$src/lib/bundle$i.jar"; done
for i in $(seq 1 40); do printf '<config id="%d">value %d</config>\n' "$i" "$i" >"$src/conf/file$i.xml"; done
python3 -c "import sys
for i in range(40000): sys.stdout.write('line %d of a carbon log\n' % i)" >"$src/wso2carbon.log"
ln -s conf/file1.xml "$src/link"
ln "$src/conf/file2.xml" "$src/hardlink"
chmod 0600 "$src/conf/file3.xml"

# init, backup, snapshots, restore, check over SFTP; the server side has the local layout.
repo="$server$TEST_DIR/repo"
obkeep -r "$repo" init >/dev/null
[ -f "$TEST_DIR/repo/config" ] && [ -d "$TEST_DIR/repo/data/ff" ] && [ -d "$TEST_DIR/repo/keys" ] ||
  fail "init over SFTP did not make the local layout"
expect_exit 1 obkeep -r "$repo" init
expect_stderr_matches "already exists"
obkeep -r "$repo" backup "$src" --tag daily >/dev/null
[ "$(count_snapshots "$repo")" = 1 ] || fail "one backup, $(count_snapshots "$repo") snapshots"
[ -z "$(find "$TEST_DIR/repo" -name '.tmp-*')" ] || fail "temporaries left on the server"
obkeep -r "$repo" restore latest --target "$TEST_DIR/out1" >/dev/null
[ "$(tree_manifest "$src")" = "$(tree_manifest "$TEST_DIR/out1$src")" ] || fail "restore over SFTP differs"
obkeep -r "$repo" check --read-data >/dev/null || fail "check --read-data over SFTP"
pass "init, backup, restore (byte for byte, with metadata) and check --read-data over SFTP"
head -c 300000 /dev/urandom >"$TEST_DIR/000000010000000000000001"
obkeep -r "$repo" -q wal-push --stanza ob "$TEST_DIR/000000010000000000000001"
obkeep -r "$repo" -q wal-push --stanza ob "$TEST_DIR/000000010000000000000001"  # again: success
obkeep -r "$repo" -q wal-fetch --stanza ob 000000010000000000000001 "$TEST_DIR/fetched-wal"
cmp -s "$TEST_DIR/000000010000000000000001" "$TEST_DIR/fetched-wal" || fail "the WAL file fetched from SFTP differs"
expect_exit 1 obkeep -r "$repo" wal-fetch --stanza ob 000000010000000000000002 "$TEST_DIR/fetched-wal"
expect_stderr_matches "is not in the archive"
pass "wal-push and wal-fetch on SFTP"

# forget and prune free space on the server; the remaining snapshot still restores.
head -c 1500000 /dev/urandom >"$src/lib/bundle1.jar"
obkeep -r "$repo" backup "$src" --tag daily >/dev/null
size_before=$(du -sb "$TEST_DIR/repo" | cut -f1)
obkeep -r "$repo" forget --keep-last 1 >/dev/null
echo partial >"$TEST_DIR/repo/data/00/.tmp-00112233aabbccdd"  # what an interrupted save leaves
obkeep -r "$repo" prune >/dev/null
[ ! -e "$TEST_DIR/repo/data/00/.tmp-00112233aabbccdd" ] || fail "prune left a temporary on the server"
size_after=$(du -sb "$TEST_DIR/repo" | cut -f1)
[ "$(count_snapshots "$repo")" = 1 ] || fail "forget --keep-last 1 left $(count_snapshots "$repo") snapshots"
[ "$size_after" -lt "$size_before" ] || fail "prune freed nothing: $size_before -> $size_after"
obkeep -r "$repo" check --read-data >/dev/null || fail "check --read-data after prune"
obkeep -r "$repo" restore latest --target "$TEST_DIR/out2" >/dev/null
[ "$(tree_manifest "$src")" = "$(tree_manifest "$TEST_DIR/out2$src")" ] || fail "restore after prune differs"
pass "forget and prune over SFTP ($size_before -> $size_after bytes), temporaries removed"

# A DR site over SFTP: related to a local primary, filled by copy, restored from.
primary=$TEST_DIR/primary dr="$server$TEST_DIR/dr"
obkeep -r "$primary" init >/dev/null
obkeep -r "$primary" backup "$src" >/dev/null
OBKEEP_FROM_PASSWORD=$OBKEEP_PASSWORD obkeep -r "$dr" init --copy-params-from "$primary" >/dev/null
OBKEEP_FROM_PASSWORD=$OBKEEP_PASSWORD obkeep -r "$dr" copy --from-repo "$primary" -q
[ "$(count_snapshots "$dr")" = 1 ] || fail "copy to the SFTP DR site"
obkeep -r "$dr" restore latest --target "$TEST_DIR/out3" >/dev/null
[ "$(tree_manifest "$src")" = "$(tree_manifest "$TEST_DIR/out3$src")" ] || fail "restore from the SFTP DR site differs"
pass "copy --from-repo a local repository into an SFTP DR site, and restore from it"

# copy --init: the site made by the copy itself (a folder whose parent is missing too),
# related to the primary; run again, it finds the repository and sends nothing.
made="$server$TEST_DIR/sites/made"
OBKEEP_FROM_PASSWORD=$OBKEEP_PASSWORD obkeep -r "$made" copy --init --from-repo "$primary" --json >"$TEST_DIR/made.json"
[ "$(json_field created <"$TEST_DIR/made.json")" = True ] || fail "copy --init did not create the site: $(cat "$TEST_DIR/made.json")"
[ "$(json_field related <"$TEST_DIR/made.json")" = True ] || fail "copy --init made an unrelated site"
[ "$(count_snapshots "$made")" = 1 ] || fail "copy --init to SFTP copied $(count_snapshots "$made") snapshots"
obkeep -r "$made" check --read-data >/dev/null || fail "check --read-data of the site copy --init made"
obkeep -r "$made" restore latest --target "$TEST_DIR/out4" >/dev/null
[ "$(tree_manifest "$src")" = "$(tree_manifest "$TEST_DIR/out4$src")" ] || fail "restore from the site copy --init made differs"
OBKEEP_FROM_PASSWORD=$OBKEEP_PASSWORD obkeep -r "$made" copy --init --from-repo "$primary" --json >"$TEST_DIR/made2.json"
[ "$(json_field created <"$TEST_DIR/made2.json")" = False ] || fail "copy --init created an existing site again"
[ "$(json_field bytes_sent <"$TEST_DIR/made2.json")" = 0 ] || fail "copy --init again sent data"
pass "copy --init makes a related SFTP site (parent folders too) and fills it in one command; again, sends nothing"

# Host keys: a changed key and an unknown host are refused, in one line naming the host.
ssh-keygen -q -t ed25519 -N '' -f "$TEST_DIR/other_host_key"
echo "[127.0.0.1]:$port $(cat "$TEST_DIR/other_host_key.pub")" >"$sshd/known_hosts"
expect_exit 1 obkeep -r "$repo" snapshots
expect_one_line_error
expect_stderr_matches "127\.0\.0\.1:$port.*changed"
: >"$sshd/known_hosts"
expect_exit 1 obkeep -r "$repo" snapshots
expect_one_line_error
expect_stderr_matches "127\.0\.0\.1:$port.*unknown"
echo "[127.0.0.1]:$port $(cat "$sshd/host_key.pub")" >"$sshd/known_hosts"
pass "changed and unknown host keys are refused"

# Nothing listening: no repository (10), one line. A wrong password: 12.
free_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
expect_exit 10 obkeep -r "sftp://$(id -un)@127.0.0.1:$free_port$TEST_DIR/repo" snapshots
expect_one_line_error
expect_stderr_matches "127\.0\.0\.1:$free_port"
expect_exit 12 env OBKEEP_PASSWORD=wrong "$OBKEEP_BIN" -r "$repo" snapshots
pass "an unreachable server and a wrong password exit 10 and 12"
