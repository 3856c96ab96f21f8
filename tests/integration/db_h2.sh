#!/usr/bin/env bash
# H2 through Debian's H2 jar and Java, as a WSO2 node keeps it: a stopped database is copied
# and restored files open in H2's Shell; a running AUTO_SERVER database is dumped online with
# SCRIPT and restored with RunScript; a running database without AUTO_SERVER is copied with a
# warning and tagged crash-consistent; a quiesce hook makes that copy consistent.
# Run where the machine's own name does not resolve (a fresh machine's may not, and H2's
# AUTO_SERVER used to look it up): a UTS namespace with a name no resolver knows.
if [ -z "${OBKEEP_H2_RENAMED:-}" ] && [ "$(id -u)" = 0 ] && unshare --uts true 2>/dev/null; then
  exec unshare --uts env OBKEEP_H2_RENAMED=1 bash -c 'hostname obkeep-test-unresolvable-host && exec bash "$0"' "$0"
fi
source "$(dirname "$0")/../lib.sh"
jar=/usr/share/java/h2.jar
[ -f "$jar" ] && command -v java >/dev/null || fail "Java and Debian's H2 jar are needed (scripts/setup.sh installs them)"
# AUTO_SERVER: the JVM that opens a database first serves it; on loopback, it does not need
# the machine's own name to resolve (a fresh machine's may not).
h2() { java -Dh2.bindAddress=127.0.0.1 -cp "$jar" "$@"; }
rows() { # URL QUERY: the query's rows as H2's Shell prints them, without the timing line
  h2 org.h2.tools.Shell -url "$1" -user wso2carbon -password wso2carbon -sql "$2" | grep -v '^(.* ms)$'
}
data() { # N SEED: a Carbon-like user store and registry
  echo "CREATE TABLE UM_USER (UM_ID INTEGER PRIMARY KEY, UM_USER_NAME VARCHAR(255) NOT NULL, UM_USER_PASSWORD VARCHAR(255), UM_TENANT_ID INTEGER DEFAULT 0);"
  echo "CREATE TABLE REG_RESOURCE (REG_PATH_ID INTEGER, REG_NAME VARCHAR(256), REG_VERSION INTEGER PRIMARY KEY, REG_MEDIA_TYPE VARCHAR(500), REG_CONTENT BLOB);"
  python3 - "$1" "$2" <<'PY'
import random, sys
n, rng = int(sys.argv[1]), random.Random(int(sys.argv[2]))
for i in range(n):
    print("INSERT INTO UM_USER VALUES (%d, 'user%d@bank.example', '%064x', -1234);" % (i, i, rng.getrandbits(256)))
    print("INSERT INTO REG_RESOURCE VALUES (%d, 'resource-%d.xml', %d, 'application/xml', X'%s');" % (i % 7, i, i, rng.randbytes(200).hex()))
PY
}

home=$TEST_DIR/wso2-obkm-1.5.0
db=$home/repository/database
write_home "$home" "$(datasource WSO2_CARBON_DB "jdbc:h2:./repository/database/WSO2CARBON_DB;DB_CLOSE_ON_EXIT=FALSE;LOCK_TIMEOUT=60000" wso2carbon wso2carbon)
$(datasource WSO2AM_DB "jdbc:h2:./repository/database/WSO2AM_DB;AUTO_SERVER=TRUE;DB_CLOSE_ON_EXIT=FALSE" wso2carbon wso2carbon)"
data 400 1 >"$TEST_DIR/carbon.sql"
data 300 2 >"$TEST_DIR/am.sql"
h2 org.h2.tools.RunScript -url "jdbc:h2:$db/WSO2CARBON_DB" -user wso2carbon -password wso2carbon -script "$TEST_DIR/carbon.sql"
h2 org.h2.tools.RunScript -url "jdbc:h2:$db/WSO2AM_DB" -user wso2carbon -password wso2carbon -script "$TEST_DIR/am.sql"
deployment_config "$home"
query="SELECT * FROM UM_USER ORDER BY UM_ID; SELECT REG_VERSION, REG_NAME, RAWTOHEX(REG_CONTENT) FROM REG_RESOURCE ORDER BY REG_VERSION"

# 1. Stopped: the files are copied and open in H2's tools after a restore.
expect_exit 0 obkeep backup --config "$TEST_DIR/obkeep.toml" --set databases
grep -q "WSO2_CARBON_DB .*file copy of a closed database" "$TEST_DIR/stdout" || fail "carbon db not copied closed: $(cat "$TEST_DIR/stdout")"
obkeep restore-db latest --config "$TEST_DIR/obkeep.toml" --database WSO2_CARBON_DB --to "jdbc:h2:$TEST_DIR/restored/WSO2CARBON_DB" >/dev/null
rows "jdbc:h2:$db/WSO2CARBON_DB" "$query" >"$TEST_DIR/want"
rows "jdbc:h2:$TEST_DIR/restored/WSO2CARBON_DB" "$query" >"$TEST_DIR/got"
[ "$(wc -l <"$TEST_DIR/want")" -gt 700 ] || fail "H2's Shell printed too little: $(head -n 3 "$TEST_DIR/want")"
diff -q "$TEST_DIR/want" "$TEST_DIR/got" >/dev/null || fail "restored H2 database differs"
pass "a stopped H2 database is copied, restored and opened by H2's Shell with identical rows"

# 2. Running: both databases held open by a Java process, as a Carbon server holds them.
hold() { # URL: keep a connection open until the test ends
  setsid bash -c "sleep 600 | java -Dh2.bindAddress=127.0.0.1 -cp '$jar' org.h2.tools.Shell -url '$1' -user wso2carbon -password wso2carbon" >/dev/null 2>&1 &
  add_cleanup "kill -- -$! 2>/dev/null"
}
hold "jdbc:h2:$db/WSO2AM_DB;AUTO_SERVER=TRUE"
hold "jdbc:h2:$db/WSO2CARBON_DB"
for _ in $(seq 1 300); do [ -f "$db/WSO2AM_DB.lock.db" ] && break; sleep 0.1; done
[ -f "$db/WSO2AM_DB.lock.db" ] || fail "the AUTO_SERVER database did not open"
sleep 3  # and the other JVM, which leaves no lock file, to have opened its database
# A write through the running server after it opened must be in the online dump.
h2 org.h2.tools.Shell -url "jdbc:h2:$db/WSO2AM_DB;AUTO_SERVER=TRUE" -user wso2carbon -password wso2carbon \
  -sql "INSERT INTO UM_USER VALUES (100000, 'written-while-running', NULL, -1234)" >/dev/null
expect_exit 0 obkeep backup --config "$TEST_DIR/obkeep.toml" --set databases
grep -q "WSO2AM_DB .*H2 SCRIPT through AUTO_SERVER" "$TEST_DIR/stdout" || fail "AM db not dumped online: $(cat "$TEST_DIR/stdout")"
expect_stderr_matches "warning: H2 database $db/WSO2CARBON_DB is in use and its URL has no AUTO_SERVER=TRUE: copied live, crash-consistent only"
obkeep -r "$TEST_DIR/repo" snapshots --tag crash-consistent --json | python3 -c "
import json, sys
tags = [s['tags'] for s in json.load(sys.stdin)]
assert len(tags) == 1 and 'database=$db/WSO2CARBON_DB' in tags[0], tags
"
pass "a running H2 database without AUTO_SERVER is copied with a warning and tagged crash-consistent"

obkeep restore-db latest --config "$TEST_DIR/obkeep.toml" --database WSO2AM_DB --to "jdbc:h2:$TEST_DIR/restored/WSO2AM_DB" >/dev/null
rows "jdbc:h2:$db/WSO2AM_DB;AUTO_SERVER=TRUE" "$query" >"$TEST_DIR/want"
rows "jdbc:h2:$TEST_DIR/restored/WSO2AM_DB" "$query" >"$TEST_DIR/got"
grep -q written-while-running "$TEST_DIR/got" || fail "the write made while running is missing from the restore"
diff -q "$TEST_DIR/want" "$TEST_DIR/got" >/dev/null || fail "restored AUTO_SERVER database differs"
pass "a running AUTO_SERVER H2 database is dumped online with SCRIPT, restored with RunScript and opened by H2's Shell"

# 3. Restores refuse to overwrite an existing database or one in use.
expect_exit 1 obkeep restore-db latest --config "$TEST_DIR/obkeep.toml" --database WSO2AM_DB --to "jdbc:h2:$TEST_DIR/restored/WSO2AM_DB"
expect_stderr_matches "H2 database $TEST_DIR/restored/WSO2AM_DB already exists"
expect_one_line_error
expect_exit 1 obkeep restore-db latest --config "$TEST_DIR/obkeep.toml" --database WSO2AM_DB --to "jdbc:h2:$db/WSO2AM_DB" --drop-existing
expect_stderr_matches "in use"
pass "restore refuses an existing or open H2 database"

# 4. A quiesce hook makes the copy of the running database consistent.
cat >>"$TEST_DIR/obkeep.toml" <<TOML
[[database]]
name = "WSO2_CARBON_DB"
quiesce_command = "echo quiesce >>'$TEST_DIR/hooks'"
resume_command = "echo resume >>'$TEST_DIR/hooks'"
TOML
expect_exit 0 obkeep backup --config "$TEST_DIR/obkeep.toml" --set databases
grep -q "WSO2_CARBON_DB .*quiesced by quiesce_command" "$TEST_DIR/stdout" || fail "quiesce hook not used: $(cat "$TEST_DIR/stdout")"
[ "$(cat "$TEST_DIR/hooks" | tr '\n' ' ')" = "quiesce resume " ] || fail "hooks ran as: $(cat "$TEST_DIR/hooks")"
grep -q "crash-consistent" "$TEST_DIR/stderr" && fail "a quiesced copy was reported crash-consistent"
pass "a quiesce hook brackets the copy of a running H2 database"
