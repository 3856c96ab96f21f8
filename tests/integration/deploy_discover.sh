#!/usr/bin/env bash
# discover on fixture deployments faithful to OB 1.5, APIM 4.0 and OB 2.0: the JSON
# matches the expected output exactly; bad input gets a clear error naming file and line.
source "$(dirname "$0")/../lib.sh"

fixtures=$OBKEEP_SOURCE_DIR/tests/fixtures
check_json() { # NAME HOME...
  local name=$1; shift
  local args=()
  for home in "$@"; do args+=(--home "$fixtures/$home"); done
  obkeep discover --json "${args[@]}" | sed "s#$fixtures#@FIXTURES@#g" >"$TEST_DIR/$name.json"
  diff -u "$fixtures/expected/$name.json" "$TEST_DIR/$name.json" || fail "discover --json for $name differs from the expected output"
}
check_json discover-ob15 ob15/wso2-obkm-1.5.0 ob15/wso2-obam-1.5.0
check_json discover-apim40 apim40/wso2am-4.0.0
check_json discover-ob20 ob20/wso2-obiam-2.0.0
pass "discover --json matches the expected output for OB 1.5, APIM 4.0 and OB 2.0 homes"

python3 - "$TEST_DIR/discover-ob15.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
by_name = {}
for db in d["databases"]:
    for name in db["datasources"]:
        by_name.setdefault(name, []).append(db)
am = by_name["WSO2AM_DB"]
assert len(am) == 1 and len(am[0]["homes"]) == 2, "WSO2AM_DB is shared by both nodes and listed once"
assert am[0]["engine"] == "mysql" and am[0]["port"] == 3306 and am[0]["credentials"] == "known"
assert len(by_name["WSO2_CARBON_DB"]) == 2, "each node has its own carbon H2 database"
stats = by_name["WSO2AM_STATS_DB"]
assert len(stats) == 1 and len(stats[0]["homes"]) == 2 and stats[0]["host"] is None and stats[0]["port"] is None
um = by_name["WSO2UM_DB"]
assert len(um) == 1, "host names compare case-insensitively"
legacy = by_name["LEGACY_REPORTING_DB"][0]
assert legacy["engine"] == "unknown" and "jdbc:db2" in legacy["reason"]
assert "SAMPLE_DATA_SOURCE" not in by_name, "commented-out datasources are ignored"
PY
python3 - "$TEST_DIR/discover-ob20.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
shared = [db for db in d["databases"] if db["datasources"] == ["database.shared_db"]][0]
assert shared["credentials"].startswith("needed: Secure Vault alias shared_db_password"), shared
ob = [db for db in d["databases"] if db["datasources"] == ["open_banking_database"]][0]
assert ob["engine"] == "sqlserver" and ob["database"] == "openbank_openbankingdb" and "hook" in ob["method"]
PY
pass "shared databases once, per-node H2 separately, Secure Vault status, unknown URLs kept with a reason"

obkeep discover --home "$fixtures/ob15/wso2-obkm-1.5.0" --home "$fixtures/ob15/wso2-obam-1.5.0" >"$TEST_DIR/human"
grep -q "WSO2AM_DB  \[mysql\]  db.bank.internal:3306/openbank_apimgtdb" "$TEST_DIR/human" || fail "human output lacks WSO2AM_DB"
grep -q "method: none: unsupported JDBC URL scheme 'jdbc:db2'" "$TEST_DIR/human" || fail "human output lacks the unknown URL reason"
if grep -q "am-db-pw\|ob-admin-pw\|ob-user-pw" "$TEST_DIR/human" "$TEST_DIR"/*.json; then fail "a password was printed"; fi
pass "human output, and no password is ever printed"

# Bad input.
expect_exit 1 obkeep discover --home "$TEST_DIR/nowhere"
expect_stderr_matches "server home does not exist: .*/nowhere"
expect_one_line_error
mkdir -p "$TEST_DIR/plain"
expect_exit 1 obkeep discover --home "$TEST_DIR/plain"
expect_stderr_matches "not a WSO2 server home \(no repository/conf\)"
bad=$TEST_DIR/bad-home
mkdir -p "$bad/repository/conf/datasources"
printf '<datasources-configuration>\n  <datasources>\n    <datasource>\n      <name>X</name>\n    </datasurce>\n</datasources-configuration>\n' \
  >"$bad/repository/conf/datasources/master-datasources.xml"
expect_exit 1 obkeep discover --home "$bad"
expect_stderr_matches "master-datasources.xml:5: malformed XML"
expect_one_line_error
rm "$bad/repository/conf/datasources/master-datasources.xml"
printf '[database.apim_db]\nurl = "jdbc:h2:x"\nusername = \n' >"$bad/repository/conf/deployment.toml"
expect_exit 1 obkeep discover --home "$bad"
expect_stderr_matches "deployment.toml:3: malformed TOML"
expect_one_line_error
expect_exit 2 obkeep discover
pass "missing home, non-home, malformed XML and TOML: one-line errors with file and line"
