#!/usr/bin/env bash
# Engines obkeep has no driver for (Oracle, SQL Server): a backup_command's stdout is
# streamed into the repository, and restore-db feeds it to the restore_command's stdin.
# The password reaches the hook only in its environment; a failing hook is reported.
source "$(dirname "$0")/../lib.sh"

home=$TEST_DIR/wso2-obam-1.5.0
write_home "$home" "$(datasource WSO2_OB_DB "jdbc:oracle:thin:@127.0.0.1:1521/ORCLPDB1" OBADMIN oracle-secret)
$(datasource WSO2UM_DB "jdbc:sqlserver://127.0.0.1:1433;databaseName=WSO2UM_DB;encrypt=false" sa mssql-secret)"
head -c 3000000 /dev/urandom | base64 >"$TEST_DIR/vendor.dmp"
cat >"$TEST_DIR/obkeep.toml" <<TOML
[repository]
url = "$TEST_DIR/repo"
[deployment]
homes = ["$home"]
[[database]]
name = "WSO2_OB_DB"
backup_command = "test \"\$OBKEEP_DB_PASSWORD\" = oracle-secret && echo \"-- \$OBKEEP_DB_USER@\$OBKEEP_DB_HOST:\$OBKEEP_DB_PORT/\$OBKEEP_DB_NAME\" && cat '$TEST_DIR/vendor.dmp'"
restore_command = "cat >'$TEST_DIR/restored.dmp'"
[[database]]
name = "WSO2UM_DB"
backup_command = "echo 'ORA-12541: TNS:no listener' >&2; exit 7"
TOML
obkeep -r "$TEST_DIR/repo" init >/dev/null

expect_exit 3 obkeep backup --config "$TEST_DIR/obkeep.toml" --set databases
expect_stderr_matches "WSO2UM_DB.*backup_command .*failed \(exit 7\).*TNS:no listener"
grep -q "WSO2_OB_DB .*snapshot" "$TEST_DIR/stdout" || fail "WSO2_OB_DB was not backed up: $(cat "$TEST_DIR/stdout")"
grep -rq "oracle-secret" "$TEST_DIR/stdout" "$TEST_DIR/stderr" "$TEST_DIR/repo" && fail "the password leaked"
pass "a backup_command's output is stored; a failing hook is reported (exit 3) and the password stays in the hook's environment"

obkeep restore-db latest --config "$TEST_DIR/obkeep.toml" --database WSO2_OB_DB --to "jdbc:oracle:thin:@127.0.0.1:1521/ORCLPDB1" >/dev/null
{ echo "-- OBADMIN@127.0.0.1:1521/ORCLPDB1"; cat "$TEST_DIR/vendor.dmp"; } | cmp - "$TEST_DIR/restored.dmp" || fail "restore_command did not receive the dump"
pass "restore-db streams the dump into the restore_command"
