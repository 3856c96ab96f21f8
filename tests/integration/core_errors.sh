#!/usr/bin/env bash
# Bad input gets a clear one-line error and the contract's exit code, never a crash.
source "$(dirname "$0")/../lib.sh"

repo=$TEST_DIR/repo
mkdir -p "$TEST_DIR/src" && echo data >"$TEST_DIR/src/f"

expect_exit 10 obkeep -r "$TEST_DIR/missing" snapshots
expect_stderr_matches "no repository at .*/missing"
expect_one_line_error
mkdir -p "$TEST_DIR/not-a-repo" && echo x >"$TEST_DIR/not-a-repo/readme"
expect_exit 10 obkeep -r "$TEST_DIR/not-a-repo" backup "$TEST_DIR/src"
expect_one_line_error
pass "a repository that does not exist or is not one: exit 10"

obkeep -r "$repo" init >/dev/null
expect_exit 1 obkeep -r "$repo" init
expect_stderr_matches "already exists"
expect_one_line_error
expect_exit 12 env OBKEEP_PASSWORD=wrong "$OBKEEP_BIN" -r "$repo" snapshots
expect_stderr_matches "wrong password"
expect_one_line_error
echo wrong >"$TEST_DIR/wrong-password"
expect_exit 12 env -u OBKEEP_PASSWORD "$OBKEEP_BIN" -r "$repo" --password-file "$TEST_DIR/wrong-password" snapshots
pass "wrong password: exit 12"

expect_exit 2 env -u OBKEEP_PASSWORD "$OBKEEP_BIN" -r "$repo" snapshots </dev/null
expect_stderr_matches "no password given"
expect_exit 2 obkeep -r "$repo" backup
expect_exit 2 obkeep frobnicate
expect_exit 2 obkeep -r "$repo" check --read-data-subset 250%
expect_stderr_matches "read-data-subset"
expect_exit 1 obkeep -r "$repo" backup "$TEST_DIR/does-not-exist"
expect_stderr_matches "does-not-exist"
expect_one_line_error
expect_exit 1 obkeep -r "$repo" restore deadbeef --target "$TEST_DIR/out"
expect_stderr_matches "no snapshot deadbeef"
expect_exit 1 obkeep -r "$repo" restore 'zz;rm' --target "$TEST_DIR/out"
expect_stderr_matches "not a snapshot id"
pass "usage errors: exit 2; unknown snapshots and paths: exit 1"

# Unreadable source files: named on stderr, the backup goes on, exit 3.
mkdir -p "$TEST_DIR/mixed/ok" "$TEST_DIR/mixed/closed"
echo readable >"$TEST_DIR/mixed/ok/file"
echo secret >"$TEST_DIR/mixed/secret"
chmod 000 "$TEST_DIR/mixed/secret" "$TEST_DIR/mixed/closed"
chmod 777 "$repo" && chmod -R a+rwX "$repo"
chmod 755 "$TEST_DIR/mixed" "$TEST_DIR/mixed/ok"
expect_exit 3 runuser -u nobody -- env OBKEEP_PASSWORD="$OBKEEP_PASSWORD" "$(binary_for_other_users)" -r "$repo" backup "$TEST_DIR/mixed"
expect_stderr_matches "cannot open .*/mixed/secret: Permission denied"
expect_stderr_matches "cannot read directory .*/mixed/closed"
obkeep -r "$repo" ls latest | grep -q "/mixed/ok/file$" || fail "readable file missing from the partial snapshot"
pass "unreadable files: named, rest backed up, exit 3"
