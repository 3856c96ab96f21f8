#!/usr/bin/env bash
# S3 backend against a real S3 API (OpenStack Swift's s3api over https): init, backup of
# several packs, restore byte for byte, check --read-data, forget --prune; a DR copy from a
# local repository into S3; a wrong secret key, an unreachable endpoint, missing
# credentials and a wrong password each fail with one line and the right exit code.
source "$(dirname "$0")/../lib.sh"
command -v swift-proxy-server >/dev/null || fail "Swift is not installed (scripts/setup.sh installs it)"

s3=$TEST_DIR/s3
mkdir -p "$s3"
bash "$OBKEEP_SOURCE_DIR/tests/servers/s3.sh" start "$s3"
add_cleanup "bash '$OBKEEP_SOURCE_DIR/tests/servers/s3.sh' stop '$s3'"
port=$(cat "$s3/port")
export AWS_ACCESS_KEY_ID=test:tester AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1
export AWS_CA_BUNDLE=$s3/cert.pem # the environment's bundle does not know the test certificate
unset AWS_DEFAULT_REGION
export OBKEEP_S3_LIST_PAGE_SIZE=3 # listings of even this small repository follow continuation tokens
repo=s3://127.0.0.1:$port/obkeep-test/repo
count_snapshots() { obkeep -r "$1" snapshots --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }

src=$TEST_DIR/src
mkdir -p "$src/lib" "$src/conf" "$src/empty"
# 20 MiB of incompressible data: more than one 16 MiB pack.
for i in 1 2 3 4; do head -c $((5 * 1024 * 1024)) /dev/urandom >"$src/lib/bundle$i.jar"; done
for i in $(seq 1 40); do printf '<config id="%d">value %d</config>\n' "$i" "$i" >"$src/conf/file$i.xml"; done
python3 -c "import sys
for i in range(50000): sys.stdout.write('line %d of a carbon log\n' % i)" >"$src/wso2carbon.log"
: >"$src/conf/empty-file"
ln -s conf/file1.xml "$src/link"
chmod 0600 "$src/conf/file3.xml"

obkeep -r "$repo" init >/dev/null
expect_exit 1 obkeep -r "$repo" init
expect_stderr_matches "already exists"
obkeep -r "$repo" backup "$src" >/dev/null
[ "$(count_snapshots "$repo")" = 1 ] || fail "one backup, not one snapshot"
obkeep -r "$repo" restore latest --target "$TEST_DIR/out1" >/dev/null
[ "$(tree_manifest "$src")" = "$(tree_manifest "$TEST_DIR/out1$src")" ] || fail "restore from S3 differs"
obkeep -r "$repo" check --read-data >/dev/null || fail "check --read-data on S3"
pass "init, backup, restore byte for byte and check --read-data on S3"
head -c 300000 /dev/urandom >"$TEST_DIR/000000010000000000000001"
obkeep -r "$repo" -q wal-push --stanza ob "$TEST_DIR/000000010000000000000001"
obkeep -r "$repo" -q wal-push --stanza ob "$TEST_DIR/000000010000000000000001"  # again: success
obkeep -r "$repo" -q wal-fetch --stanza ob 000000010000000000000001 "$TEST_DIR/fetched-wal"
cmp -s "$TEST_DIR/000000010000000000000001" "$TEST_DIR/fetched-wal" || fail "the WAL file fetched from S3 differs"
expect_exit 1 obkeep -r "$repo" wal-fetch --stanza ob 000000010000000000000002 "$TEST_DIR/fetched-wal"
expect_stderr_matches "is not in the archive"
pass "wal-push and wal-fetch on S3"

printf 'changed\n' >>"$src/conf/file5.xml"
head -c $((1024 * 1024)) /dev/urandom >"$src/lib/new.jar"
obkeep -r "$repo" backup "$src" >/dev/null
obkeep -r "$repo" forget --keep-last 1 --prune >/dev/null
[ "$(count_snapshots "$repo")" = 1 ] || fail "forget --keep-last 1 left $(count_snapshots "$repo") snapshots"
obkeep -r "$repo" check --read-data >/dev/null || fail "check --read-data after prune"
obkeep -r "$repo" restore latest --target "$TEST_DIR/out2" >/dev/null
[ "$(tree_manifest "$src")" = "$(tree_manifest "$TEST_DIR/out2$src")" ] || fail "restore after prune differs"
pass "forget --prune on S3 keeps the newest snapshot whole"

# A DR site on S3, related to a local primary.
primary=$TEST_DIR/primary dr=s3://127.0.0.1:$port/obkeep-test/dr-site
OBKEEP_PASSWORD=primary-password obkeep -r "$primary" init >/dev/null
OBKEEP_PASSWORD=primary-password obkeep -r "$primary" backup "$src" >/dev/null
dr_env=(env OBKEEP_PASSWORD=dr-password OBKEEP_FROM_PASSWORD=primary-password)
"${dr_env[@]}" "$OBKEEP_BIN" -r "$dr" init --copy-params-from "$primary" >/dev/null
"${dr_env[@]}" "$OBKEEP_BIN" -r "$dr" copy --from-repo "$primary" >/dev/null
"${dr_env[@]}" "$OBKEEP_BIN" -r "$dr" restore latest --target "$TEST_DIR/out3" >/dev/null
[ "$(tree_manifest "$src")" = "$(tree_manifest "$TEST_DIR/out3$src")" ] || fail "restore from the S3 DR site differs"
"${dr_env[@]}" "$OBKEEP_BIN" -r "$dr" check --read-data >/dev/null || fail "check --read-data of the S3 DR site"
pass "copy from a local repository to an S3 DR site, restored and checked"

made=s3://127.0.0.1:$port/obkeep-test/made-site
"${dr_env[@]}" "$OBKEEP_BIN" -r "$made" copy --init --from-repo "$primary" --json >"$TEST_DIR/made.json"
[ "$(json_field created <"$TEST_DIR/made.json")" = True ] || fail "copy --init did not create the S3 site: $(cat "$TEST_DIR/made.json")"
[ "$(json_field related <"$TEST_DIR/made.json")" = True ] || fail "copy --init made an unrelated S3 site"
"${dr_env[@]}" "$OBKEEP_BIN" -r "$made" restore latest --target "$TEST_DIR/out4" >/dev/null
[ "$(tree_manifest "$src")" = "$(tree_manifest "$TEST_DIR/out4$src")" ] || fail "restore from the S3 site copy --init made differs"
pass "copy --init makes a related S3 site and fills it in one command"

# Object Lock on a store without it (Swift's s3api): never pretended. init refuses with one
# line, a backup asking for retention stores nothing, status says so.
expect_exit 1 obkeep -r "s3://127.0.0.1:$port/obkeep-lock/repo?object_lock_days=30" init
expect_one_line_error
expect_stderr_matches "obkeep-lock: the store does not support S3 Object Lock \(GetObjectLockConfiguration: .+\); object_lock_days cannot be honoured"
snapshots_before=$("${dr_env[@]}" "$OBKEEP_BIN" -r "$dr" snapshots --json)
expect_exit 1 "${dr_env[@]}" "$OBKEEP_BIN" -r "$dr?object_lock_days=30&object_lock_mode=governance" backup "$src"
expect_one_line_error
expect_stderr_matches "does not support S3 Object Lock"
[ "$("${dr_env[@]}" "$OBKEEP_BIN" -r "$dr" snapshots --json)" = "$snapshots_before" ] || fail "a backup asking for retention stored a snapshot"
obkeep sample-deployment "$TEST_DIR/dep" >/dev/null
deployment_config "$TEST_DIR/dep/wso2-obkm-1.5.0"
printf 'dr-password\n' >"$TEST_DIR/dr.pw"
cat >>"$TEST_DIR/obkeep.toml" <<TOML
[policy.artifacts]
rpo = "4h"
sites = ["swift"]
[[dr_site]]
name = "swift"
url = "$dr"
password_file = "$TEST_DIR/dr.pw"
object_lock_days = 30
TOML
expect_exit 5 obkeep status --config "$TEST_DIR/obkeep.toml"
grep -Eq "^  swift +object lock: not supported by the store \(GetObjectLockConfiguration: .+\); object_lock_days = 30 is not honoured$" \
  "$TEST_DIR/stdout" || fail "status: $(cat "$TEST_DIR/stdout")"
pass "object lock on a store without it: init and a backup refuse with one line, status says it is not supported"

expect_exit 1 env AWS_SECRET_ACCESS_KEY=wrong-secret "$OBKEEP_BIN" -r "$repo" snapshots
expect_one_line_error
expect_stderr_matches "SignatureDoesNotMatch"
expect_exit 1 env AWS_SECRET_ACCESS_KEY=wrong-secret "$OBKEEP_BIN" -r "s3://127.0.0.1:$port/obkeep-other/repo" init
expect_one_line_error
expect_stderr_matches "403 SignatureDoesNotMatch"
pass "a wrong secret key fails with one line naming the signature"

closed=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
expect_exit 10 obkeep -r "s3://127.0.0.1:$closed/obkeep-test/repo" snapshots
expect_one_line_error
expect_stderr_matches "cannot reach S3 endpoint https://127.0.0.1:$closed"
expect_exit 1 env -u AWS_ACCESS_KEY_ID "$OBKEEP_BIN" -r "$repo" snapshots
expect_one_line_error
expect_stderr_matches "AWS_ACCESS_KEY_ID"
expect_exit 12 env OBKEEP_PASSWORD=wrong-password "$OBKEEP_BIN" -r "$repo" snapshots
expect_one_line_error
pass "an unreachable endpoint (exit 10), missing credentials and a wrong password (exit 12) fail with one line"
