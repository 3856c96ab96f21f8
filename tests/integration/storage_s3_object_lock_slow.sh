#!/usr/bin/env bash
# S3 Object Lock against a store that has it: Ceph's RADOS Gateway (tests/servers/radosgw.sh,
# a single-node cluster). init makes the bucket with Object Lock; every object written but
# locks carries retention (seen by HEADs from tests/s3_request.py, not obkeep), multipart
# packs included; the store refuses to delete a retained pack version; forget and prune keep
# what is retained and say so, also when the URL does not ask for object lock; check stays
# clean and restore is whole; locks leave no version behind; init on a bucket made without
# Object Lock is refused; status shows each site's protection.
# "_slow": the cluster takes about 20 s to start, so the sanitizer run leaves this test out.
source "$(dirname "$0")/../lib.sh"
command -v radosgw >/dev/null || fail "radosgw is not installed (scripts/setup.sh installs it)"

rgw=$TEST_DIR/rgw
mkdir -p "$rgw"
add_cleanup "bash '$OBKEEP_SOURCE_DIR/tests/servers/radosgw.sh' stop '$rgw'"
bash "$OBKEEP_SOURCE_DIR/tests/servers/radosgw.sh" start "$rgw"
port=$(cat "$rgw/port")
AWS_ACCESS_KEY_ID=$(cat "$rgw/access_key") AWS_SECRET_ACCESS_KEY=$(cat "$rgw/secret_key")
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION=us-east-1
unset AWS_DEFAULT_REGION
endpoint=http://127.0.0.1:$port
plain_url=s3+http://127.0.0.1:$port/locked/repo
repo="$plain_url?object_lock_days=2&object_lock_mode=compliance"

# request METHOD KEY [QUERY] [HEADER:VALUE]...: a signed request to the bucket "locked";
# the answer (status, headers, body) in $TEST_DIR/answer.
request() {
  local method=$1 key=$2; shift 2
  python3 "$OBKEEP_SOURCE_DIR/tests/s3_request.py" "$method" "$endpoint/locked/$key" "$@" >"$TEST_DIR/answer"
}
status_of_answer() { head -1 "$TEST_DIR/answer"; }
header_of_answer() { sed -n "s/^$1: //p" "$TEST_DIR/answer" | tr -d '\r'; }
objects() { python3 "$OBKEEP_SOURCE_DIR/tests/s3_list.py" "$endpoint" locked objects "repo/$1"; }

src=$TEST_DIR/src
mkdir -p "$src/lib" "$src/conf"
# 20 MiB that does not compress: packs of 16 MiB, sent as multipart uploads.
for i in 1 2 3 4; do head -c $((5 * 1024 * 1024)) /dev/urandom >"$src/lib/bundle$i.jar"; done
for i in $(seq 1 20); do printf '<config id="%d"/>\n' "$i" >"$src/conf/file$i.xml"; done

obkeep -r "$repo" init >/dev/null
request GET "" object-lock
grep -q '<ObjectLockEnabled>Enabled</ObjectLockEnabled>' "$TEST_DIR/answer" || fail "bucket without object lock: $(cat "$TEST_DIR/answer")"
obkeep -r "$repo" backup "$src" >/dev/null
pass "init makes the bucket with Object Lock; a backup under retention succeeds"

# Every stored object carries compliance retention until about two days from now.
now=$(date +%s)
keys=$(objects "")
[ "$(echo "$keys" | grep -c /data/)" -ge 2 ] || fail "want at least two packs: $keys"
for kind in config keys/ data/ index/ snapshots/; do echo "$keys" | grep -q "^repo/$kind" || fail "no $kind object: $keys"; done
echo "$keys" | grep -q "^repo/locks/" && fail "a lock was left: $keys"
for key in $keys; do
  request HEAD "$key"
  [ "$(status_of_answer)" = 200 ] || fail "HEAD $key: $(cat "$TEST_DIR/answer")"
  [ "$(header_of_answer x-amz-object-lock-mode)" = COMPLIANCE ] || fail "$key has no compliance retention: $(cat "$TEST_DIR/answer")"
  until=$(date -d "$(header_of_answer x-amz-object-lock-retain-until-date)" +%s)
  [ $((until - now)) -gt $((2 * 86400 - 600)) ] && [ $((until - now)) -le $((2 * 86400 + 60)) ] ||
    fail "$key is retained until $(header_of_answer x-amz-object-lock-retain-until-date), not two days from now"
done
pass "every object (config, key, packs sent as multipart uploads, index, snapshot) carries compliance retention for 2 days"

# Locks are written without retention and removed whole: not even a version is left of them.
lock_versions=$(python3 "$OBKEEP_SOURCE_DIR/tests/s3_list.py" "$endpoint" locked versions repo/locks/)
[ -z "$lock_versions" ] || fail "lock versions left behind: $lock_versions"
pass "locks stay deletable and leave no version behind"

# The store itself refuses to delete a pack's version under retention.
pack=$(echo "$keys" | grep /data/ | head -1)
request HEAD "$pack"
version=$(header_of_answer x-amz-version-id)
request DELETE "$pack" "versionId=$version"
[ "$(status_of_answer)" = 403 ] && grep -q AccessDenied "$TEST_DIR/answer" || fail "DELETE of a retained version: $(cat "$TEST_DIR/answer")"
pass "the store refuses to delete a retained pack version (403 AccessDenied)"

# A backup whose snapshot cannot be saved leaves packs and an index that no snapshot uses.
printf 'changed\n' >>"$src/conf/file1.xml"
head -c $((1024 * 1024)) /dev/urandom >"$src/lib/lost.jar"
expect_exit 1 env OBKEEP_TEST_FAULTS='save:snapshot@1=EIO' "$OBKEEP_BIN" -r "$repo" backup "$src"
rm "$src/lib/lost.jar"
obkeep -r "$repo" backup "$src" >/dev/null
packs_before=$(objects data/ | sort)
indexes_before=$(objects index/ | sort)
# The URL without object lock: the bucket's Object Lock is found all the same.
obkeep -r "$plain_url" forget --keep-last 1 --prune >"$TEST_DIR/forget.out"
grep -q "removed 0 snapshots, kept 1 under S3 Object Lock retention" "$TEST_DIR/forget.out" || fail "forget: $(cat "$TEST_DIR/forget.out")"
grep -q "under S3 Object Lock retention until" "$TEST_DIR/forget.out" || fail "forget names no date: $(cat "$TEST_DIR/forget.out")"
grep -Eq "^kept [1-9][0-9]* packs and [1-9][0-9]* index files under S3 Object Lock retention" "$TEST_DIR/forget.out" ||
  fail "prune does not say what it kept: $(cat "$TEST_DIR/forget.out")"
[ "$(obkeep -r "$repo" snapshots --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 2 ] ||
  fail "a retained snapshot was removed"
missing=$(comm -23 <(echo "$packs_before") <(objects data/ | sort))
[ -z "$missing" ] || fail "prune removed retained packs: $missing"
missing=$(comm -23 <(echo "$indexes_before") <(objects index/ | sort))
[ -z "$missing" ] || fail "prune removed retained index files: $missing"
delete_markers=$(python3 "$OBKEEP_SOURCE_DIR/tests/s3_list.py" "$endpoint" locked versions repo/ | grep delete-marker || true)
[ -z "$delete_markers" ] || fail "prune hid objects behind delete markers: $delete_markers"
obkeep -r "$repo" prune --json >"$TEST_DIR/prune.json"
python3 -c "
import json, sys
result = json.loads(open('$TEST_DIR/prune.json').read().splitlines()[-1])
assert result['packs_retained'] >= 1 and result['index_files_retained'] >= 1 and result['retained_until'], result" ||
  fail "prune --json: $(cat "$TEST_DIR/prune.json")"
pass "forget --prune keeps retained snapshots, packs and index files, says so, and hides nothing behind delete markers"

obkeep -r "$repo" check --read-data >"$TEST_DIR/check.out" || fail "check after prune: $(cat "$TEST_DIR/check.out")"
obkeep -r "$repo" restore latest --target "$TEST_DIR/out" >/dev/null
[ "$(tree_manifest "$src")" = "$(tree_manifest "$TEST_DIR/out$src")" ] || fail "restore from the locked bucket differs"
pass "check --read-data is clean and restore is whole after prune"

# A bucket made without Object Lock cannot get it later: init says so and stores nothing.
python3 "$OBKEEP_SOURCE_DIR/tests/s3_request.py" PUT "$endpoint/plain" >/dev/null
expect_exit 1 obkeep -r "s3+http://127.0.0.1:$port/plain/repo?object_lock_days=2" init
expect_one_line_error
expect_stderr_matches "plain: the bucket was made without S3 Object Lock \(GetObjectLockConfiguration: ObjectLockConfigurationNotFoundError\)"
[ -z "$(python3 "$OBKEEP_SOURCE_DIR/tests/s3_list.py" "$endpoint" plain objects "")" ] || fail "init stored objects in the plain bucket"
obkeep -r "s3+http://127.0.0.1:$port/plain/repo" init >/dev/null
pass "init with object lock on a bucket made without it is refused with one line"

# status: the protection of each place.
obkeep sample-deployment "$TEST_DIR/dep" >/dev/null
deployment_config "$TEST_DIR/dep/wso2-obkm-1.5.0"
cat >>"$TEST_DIR/obkeep.toml" <<TOML
[policy.artifacts]
rpo = "4h"
sites = ["locked", "plain"]
[[dr_site]]
name = "locked"
url = "$plain_url"
object_lock_days = 2
object_lock_mode = "compliance"
[[dr_site]]
name = "plain"
url = "s3+http://127.0.0.1:$port/plain/repo"
object_lock_days = 2
TOML
expect_exit 5 obkeep status --config "$TEST_DIR/obkeep.toml" --json
python3 -c "
import json
status = json.load(open('$TEST_DIR/stdout'))
protection = {p['site']: p['protection'] for p in status['protection']}
assert protection[None] == 'none', protection
assert protection['locked'] == 'object lock: compliance, 2 days', protection
assert protection['plain'].startswith('object lock: not enabled on the bucket'), protection
assert 'object_lock_days = 2 is not honoured' in protection['plain'], protection" ||
  fail "status --json protection: $(cat "$TEST_DIR/stdout")"
expect_exit 5 obkeep status --config "$TEST_DIR/obkeep.toml"
grep -Eq "^  locked +object lock: compliance, 2 days$" "$TEST_DIR/stdout" || fail "status: $(cat "$TEST_DIR/stdout")"
pass "status shows each site's protection: none, object lock with its mode and days, or why not"
