#!/usr/bin/env bash
# Deployment sets on the generated OB 1.5 sample (two homes): one snapshot per set and home,
# tagged; an in-place restore of repository/ after its loss, with the old tree kept for
# rollback and the excluded H2 files kept; refusal while the server runs; a restore killed
# at any moment leaves the old tree or the new one; drift against the baseline; config errors.
source "$(dirname "$0")/../lib.sh"

obkeep sample-deployment "$TEST_DIR/dep" >/dev/null
km=$TEST_DIR/dep/wso2-obkm-1.5.0
am=$TEST_DIR/dep/wso2-obam-1.5.0
deployment_config "$km" "$am"
cat >>"$TEST_DIR/obkeep.toml" <<TOML
[sets.artifacts]
exclude = ["*/repository/logs/*"]
[policy.artifacts]
rpo = "1h"
frequency = "15m"
TOML
# The tree that matters in repository/: without logs (excluded) and H2 files (the databases set).
artifacts_manifest() {
  tree_manifest "$1" | grep -v -e "^b'logs" -e '\.h2\.db' -e '\.mv\.db' || true
}

# 1. One snapshot per set and home (and per database), tagged so they can be found.
expect_exit 0 obkeep backup --config "$TEST_DIR/obkeep.toml"
snaps() { obkeep -r "$TEST_DIR/repo" snapshots --tag "$1" --json | python3 -c "import json, sys; print(len(json.load(sys.stdin)))"; }
[ "$(snaps set=artifacts)" = 2 ] && [ "$(snaps set=instance)" = 2 ] && [ "$(snaps "home=$am")" = 2 ] ||
  fail "want two artifacts and two instance snapshots: $(cat "$TEST_DIR/stdout")"
databases=$(obkeep discover --home "$km" --home "$am" --json | python3 -c "import json, sys; print(len(json.load(sys.stdin)['databases']))")
[ "$(snaps set=databases)" = "$databases" ] || fail "want one snapshot per database ($databases): $(snaps set=databases)"
obkeep -r "$TEST_DIR/repo" ls latest --json >/dev/null
pass "backup --config takes every set of every home, each tagged set= and home= or database="

# 2. repository/deployment of the gateway node is lost; the artifacts set brings it back in place.
( cd "$am" && artifacts_manifest repository ) >"$TEST_DIR/before"
h2_before=$(cd "$am/repository/database" && sha256sum *.h2.db)
echo "a log line written after the backup" >>"$am/repository/logs/wso2carbon.log"
rm -rf "$am/repository/deployment"
expect_exit 0 obkeep -r "$TEST_DIR/repo" restore --set artifacts --home "$am"
grep -q "replaced $am/repository with snapshot" "$TEST_DIR/stdout" || fail "no replace report: $(cat "$TEST_DIR/stdout")"
( cd "$am" && artifacts_manifest repository ) >"$TEST_DIR/after"
diff "$TEST_DIR/before" "$TEST_DIR/after" || fail "repository/ differs from the backup after the in-place restore"
[ "$h2_before" = "$(cd "$am/repository/database" && sha256sum *.h2.db)" ] || fail "the H2 files were not kept"
grep -q "written after the backup" "$am/repository/logs/wso2carbon.log" || fail "the excluded logs were not kept"
rollback=$(ls -d "$am"/repository.obkeep-rollback-* | head -n 1)
[ -d "$rollback/conf" ] && [ ! -e "$rollback/deployment" ] || fail "the rollback directory does not hold the old tree"
ls -a "$am" | grep -q obkeep-staging && fail "a staging directory was left behind"
pass "a lost repository/deployment is restored in place; H2 files and excluded logs kept; old tree at $(basename "$rollback")"

# 3. Refusal while the server runs: a live pid in wso2carbon.pid, or an H2 lock file.
sleep 600 &
server=$!
add_cleanup "kill $server 2>/dev/null"
echo "$server" >"$am/wso2carbon.pid"
expect_exit 1 obkeep -r "$TEST_DIR/repo" restore --set artifacts --home "$am"
expect_stderr_matches "refusing to replace $am/repository while the server runs: process $server from $am/wso2carbon.pid is running"
expect_one_line_error
expect_exit 0 obkeep -r "$TEST_DIR/repo" restore --set artifacts --home "$am" --force
kill $server; wait $server 2>/dev/null || true
touch "$am/repository/database/WSO2AM_DB.lock.db"
expect_exit 1 obkeep -r "$TEST_DIR/repo" restore --set instance --home "$am"
expect_stderr_matches "refusing to replace $am while the server runs: H2 lock file .*WSO2AM_DB.lock.db exists"
rm "$am/repository/database/WSO2AM_DB.lock.db" "$am/wso2carbon.pid"
pass "in-place restores refuse while the server runs (live pid, H2 lock file) unless --force"

# 4. A restore killed at any moment leaves either the old tree or the new one.
( cd "$km" && artifacts_manifest repository ) >"$TEST_DIR/new"
started=$(date +%s%N)
obkeep -r "$TEST_DIR/repo" restore --set artifacts --home "$km" >/dev/null
duration_ms=$(( ($(date +%s%N) - started) / 1000000 ))
outcomes=""
for i in 1 2 3 4 5 6 7 8; do
  echo "hand edit $i" >>"$km/repository/conf/carbon.xml"
  ( cd "$km" && artifacts_manifest repository ) >"$TEST_DIR/old"
  "$OBKEEP_BIN" -r "$TEST_DIR/repo" restore --set artifacts --home "$km" >/dev/null 2>&1 &
  restore=$!
  # Spread the kills over the run, the last ones close to the swap at its end.
  sleep "$(python3 -c "print($duration_ms * 0.1 * $i / 1000)")"
  kill -9 $restore 2>/dev/null || true
  wait $restore 2>/dev/null || true
  ( cd "$km" && artifacts_manifest repository ) >"$TEST_DIR/now"
  if cmp -s "$TEST_DIR/now" "$TEST_DIR/old"; then outcomes+=" old"; elif cmp -s "$TEST_DIR/now" "$TEST_DIR/new"; then outcomes+=" new"; else
    fail "after kill -9 number $i, repository/ is neither the old tree nor the new one: $(diff "$TEST_DIR/old" "$TEST_DIR/now" | head -n 5)"
  fi
  rm -rf "$km"/.repository.obkeep-staging-*
  obkeep -r "$TEST_DIR/repo" unlock >/dev/null 2>&1 || true
done
expect_exit 0 obkeep -r "$TEST_DIR/repo" restore --set artifacts --home "$km"
( cd "$km" && artifacts_manifest repository ) | cmp -s - "$TEST_DIR/new" || fail "the restore after the kills did not complete"
pass "kill -9 at eight moments of an in-place restore ($duration_ms ms) left the old tree or the new one, never a mix:$outcomes"

# 5. Drift against the instance baseline.
echo "<!-- patched by hand -->" >>"$km/repository/conf/carbon.xml"
mkdir -p "$km/repository/components/dropins" && touch "$km/repository/components/dropins/hotfix-1234.jar"
rm "$km/bin/ciphertool.sh"
expect_exit 0 obkeep diff --baseline "$km" --config "$TEST_DIR/obkeep.toml"
grep -q "^M  $km/repository/conf/carbon.xml" "$TEST_DIR/stdout" || fail "modified file not shown: $(cat "$TEST_DIR/stdout")"
grep -q "^+  $km/repository/components/dropins/hotfix-1234.jar" "$TEST_DIR/stdout" || fail "added file not shown"
grep -q "^-  $km/bin/ciphertool.sh" "$TEST_DIR/stdout" || fail "removed file not shown"
grep -q "wso2carbon.log\|\.h2\.db" "$TEST_DIR/stdout" && fail "drift lists excluded files: $(cat "$TEST_DIR/stdout")"
pass "diff --baseline shows what changed in a home since its baseline"

# 6. Bad input: one-line errors naming the file, line and key.
bad() { # TOML-LINE WANT-REGEX
  printf '[repository]\nurl = "%s"\n[deployment]\nhomes = ["%s"]\n%s\n' "$TEST_DIR/repo" "$km" "$1" >"$TEST_DIR/bad.toml"
  expect_exit 2 obkeep backup --config "$TEST_DIR/bad.toml"
  expect_stderr_matches "$2"
  expect_one_line_error
}
bad $'[policy.artifacts]\nfrecuency = "15m"' 'bad.toml:6: unknown key "frecuency" in \[policy.artifacts\]'
bad $'[policy.artifacts]\nrpo = "1 hour"' "bad.toml:6: policy.artifacts.rpo: bad duration unit in '1 hour'"
bad $'[sets.artefacts]\nexclude = []' 'bad.toml:5: unknown key "artefacts" in \[sets\]'
bad $'[deployment2]' 'bad.toml:5: unknown key "deployment2" at the top level'
printf 'homes = [\n' >"$TEST_DIR/broken.toml"
expect_exit 2 obkeep backup --config "$TEST_DIR/broken.toml"
expect_stderr_matches "broken.toml:[0-9]+"
expect_one_line_error
expect_exit 2 obkeep backup --config "$TEST_DIR/obkeep.toml" --set artefacts
expect_stderr_matches "unknown set 'artefacts'"
expect_exit 2 obkeep -r "$TEST_DIR/repo" restore --set artifacts
expect_stderr_matches "--set needs --home"
pass "config and usage errors are one line naming the file, line and key"
