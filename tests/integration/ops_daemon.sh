#!/usr/bin/env bash
# obkeep daemon keeps a policy with short objectives (rpo 20s) on an OB 1.5 home whose
# datasource is a real PostgreSQL 15 database, with an SFTP DR site behind a fault proxy:
# - every objective becomes and stays met; /metrics passes promtool; /status.json is the
#   status object;
# - the database server stopped: objective_at_risk, then objective_violated, fire once
#   each (a webhook listener and an alert command record them), and backup_failed once;
#   the server back: objective_met;
# - the DR site unreachable: the copy fails alone (copy_failed, once) while the primary's
#   objectives stay met; the site back: it is caught up;
# - kill -9 mid-backup, restart: the schedule continues without a burst, check is clean;
# - SIGTERM: exit 0 within 30 s, no lock left behind.
source "$(dirname "$0")/../lib.sh"
[ -x /usr/lib/postgresql/15/bin/postgres ] || fail "PostgreSQL 15 is not installed (scripts/setup.sh installs it)"
servers=$OBKEEP_SOURCE_DIR/tests/servers
unset SSH_AUTH_SOCK

# PostgreSQL with an Open Banking database.
pg=$TEST_DIR/pg
bash "$servers/postgres.sh" start "$pg"
add_cleanup "bash '$servers/postgres.sh' stop '$pg'"
pg_port=$(cat "$pg/port")
export PGPASSWORD=$(cat "$pg/password")
psql_() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg_port" -U postgres "$@"; }
psql_ -c "CREATE DATABASE openbank_openbankingdb"
python3 "$OBKEEP_SOURCE_DIR/tests/db/ob_data.py" schema postgres | psql_ -d openbank_openbankingdb
python3 "$OBKEEP_SOURCE_DIR/tests/db/ob_data.py" data postgres 500 1 | psql_ -d openbank_openbankingdb
pg_ctl_() { runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$pg/pg/data" "$@" >/dev/null; }

# The DR site: sshd behind the fault proxy, which can refuse and cut connections.
sshd=$TEST_DIR/sshd proxy=$TEST_DIR/proxy
bash "$servers/sshd.sh" start "$sshd"
add_cleanup "bash '$servers/sshd.sh' stop '$sshd'"
bash "$servers/faultproxy.sh" start "$proxy" "$(cat "$sshd/port")"
add_cleanup "bash '$servers/faultproxy.sh' stop '$proxy'"
proxy_port=$(cat "$proxy/port")
echo "[127.0.0.1]:$proxy_port $(cat "$sshd/host_key.pub")" >>"$sshd/known_hosts"
export OBKEEP_SSH_CONFIG=$sshd/ssh_config

# Alerts: a webhook listener and a command, both recording every event.
hook=$TEST_DIR/hook
mkdir -p "$hook"
python3 "$servers/webhook.py" "$hook/port" "$hook/events.jsonl" --parent-pid $$ &
hook_pid=$!
add_cleanup "kill $hook_pid 2>/dev/null"
for _ in $(seq 1 50); do [ -s "$hook/port" ] && break; sleep 0.1; done
[ -s "$hook/port" ] || fail "the webhook listener did not start"

home=$TEST_DIR/wso2-obam-1.5.0
write_home "$home" "$(datasource WSO2_OPEN_BANKING_DB "jdbc:postgresql://127.0.0.1:$pg_port/openbank_openbankingdb" postgres "$PGPASSWORD")"
echo '<deployment/>' >"$home/repository/conf/deployment.xml"
deployment_config "$home"
config=$TEST_DIR/obkeep.toml
cat >>"$config" <<TOML
[policy.databases]
rpo = "20s"
frequency = "4s"
sites = ["dr1"]
[policy.artifacts]
rpo = "1h"
frequency = "30m"
keep_last = 50
[[dr_site]]
name = "dr1"
url = "sftp://$(id -un)@127.0.0.1:$proxy_port$TEST_DIR/dr1"
sets = ["databases"]
[daemon]
observe_every = "1s"
verify_every = "15s"
verify_period = "45s"
prune_every = "1h"
[alerts]
webhook = "http://127.0.0.1:$(cat "$hook/port")/hook"
command = "{ cat; echo; } >> '$hook/command.jsonl'"
timeout = "5s"
TOML
obkeep --config "$config" --site dr1 init >/dev/null

# start_daemon: obkeep daemon in the background, its log in $TEST_DIR/daemon.log (appended);
# sets daemon_pid and metrics (http://127.0.0.1:PORT).
start_daemon() {
  local before; before=$(grep -c listening= "$TEST_DIR/daemon.log" 2>/dev/null || true)
  "$OBKEEP_BIN" daemon --config "$config" --metrics-listen 127.0.0.1:0 >>"$TEST_DIR/daemon.log" 2>>"$TEST_DIR/daemon.err" &
  daemon_pid=$!
  for _ in $(seq 1 100); do
    [ "$(grep -c listening= "$TEST_DIR/daemon.log" 2>/dev/null || true)" -gt "${before:-0}" ] && break
    kill -0 $daemon_pid 2>/dev/null || fail "the daemon exited: $(cat "$TEST_DIR/daemon.err")"
    sleep 0.1
  done
  metrics="http://$(grep -o 'listening=[0-9.:]*' "$TEST_DIR/daemon.log" | tail -n 1 | cut -d= -f2)"
}
add_cleanup '[ -n "${daemon_pid:-}" ] && kill -9 $daemon_pid 2>/dev/null'
status_json() { curl -sf --max-time 5 "$metrics/status.json"; }
# verdict_of SET SITE: the verdict of that set's objective at SITE (primary: null).
verdict_of() {
  status_json | python3 -c "
import json, sys
d = json.load(sys.stdin)
site = None if '$2' == 'primary' else '$2'
print(' '.join(o['verdict'] for o in d['objectives'] if o['set'] == '$1' and o['site'] == site) or 'none')"
}
# wait_until SECONDS DESCRIPTION CMD...: polls CMD every 0.5 s.
wait_until() {
  local limit=$1 what=$2 i; shift 2
  for ((i = 0; i < limit * 2; i++)); do "$@" && return 0; sleep 0.5; done
  fail "not within ${limit}s: $what; daemon log tail: $(tail -n 5 "$TEST_DIR/daemon.log")"
}
verdict_is() { [ "$(verdict_of "$1" "$2")" = "$3" ]; }
# count_events FILE EVENT [KEY-SUBSTRING]: how many recorded events of that name (about it).
count_events() {
  python3 - "$@" <<'PY'
import json, sys
path, event = sys.argv[1], sys.argv[2]
about = sys.argv[3] if len(sys.argv) > 3 else ""
count = 0
try:
    for line in open(path):
        if not line.strip():
            continue
        e = json.loads(line)
        text = json.dumps(e.get("objective", {})) + e.get("job", "")
        count += e["event"] == event and about in text
except FileNotFoundError:
    pass
print(count)
PY
}
events_at_least() { [ "$(count_events "$hook/events.jsonl" "$1" "${3:-}")" -ge "$2" ]; }
db_snapshots() { obkeep -r "$TEST_DIR/repo" snapshots --json --tag set=databases | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }

# 1. Every objective met, and kept met.
start_daemon
wait_until 60 "every objective met" bash -c "[ \"\$(curl -sf --max-time 5 '$metrics/status.json' | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"verdict\"])')\" = met ]"
sleep 6
verdict_is databases primary met || fail "databases at the primary not kept met: $(status_json)"
verdict_is databases dr1 met || fail "databases at dr1 not kept met: $(status_json)"
curl -sf --max-time 5 "$metrics/metrics" >"$TEST_DIR/metrics.txt" || fail "GET /metrics failed"
grep -q '^obkeep_objective_status{set="databases",database="[^"]*",site="dr1"} 0$' "$TEST_DIR/metrics.txt" ||
  fail "no met databases objective at dr1 in /metrics: $(grep objective_status "$TEST_DIR/metrics.txt")"
grep -q '^obkeep_job_last_success_timestamp_seconds{job="backup",target="databases"} [0-9]' "$TEST_DIR/metrics.txt" ||
  fail "no backup success in /metrics"
if command -v promtool >/dev/null; then
  promtool check metrics <"$TEST_DIR/metrics.txt" || fail "promtool check metrics: $(promtool check metrics <"$TEST_DIR/metrics.txt" 2>&1)"
else
  fail "promtool is not installed (scripts/setup.sh installs prometheus)"
fi
[ "$(count_events "$hook/events.jsonl" objective_violated)" = 0 ] || fail "violations alerted while all was well"
pass "the daemon meets every objective (rpo 20s) and keeps it; /metrics passes promtool"

# 2. The database server stopped: at risk, then violated, once each; back: met.
pg_ctl_ stop -m fast
wait_until 40 "objective_at_risk for the database" events_at_least objective_at_risk 1 openbank_openbankingdb
wait_until 30 "objective_violated for the database" events_at_least objective_violated 1 openbank_openbankingdb
wait_until 10 "backup_failed" events_at_least backup_failed 1
sleep 4  # more failed rounds: still one alert of each
primary_risk=$(count_events "$hook/events.jsonl" objective_at_risk '"site": null')
primary_violated=$(count_events "$hook/events.jsonl" objective_violated '"site": null')
[ "$primary_risk" = 1 ] && [ "$primary_violated" = 1 ] ||
  fail "want one objective_at_risk and one objective_violated for the primary, got $primary_risk and $primary_violated"
[ "$(count_events "$hook/events.jsonl" backup_failed)" = 1 ] || fail "backup_failed alerted more than once"
[ "$(count_events "$hook/command.jsonl" objective_violated)" -ge 1 ] || fail "the alert command did not get objective_violated"
grep -q 'job=backup target=databases outcome=failed' "$TEST_DIR/daemon.log" || fail "no failed backup logged"
pg_ctl_ start -w -t 30 -l "$pg/pg/server.log"
wait_until 40 "objective_met for the database" events_at_least objective_met 2 openbank_openbankingdb
verdict_is databases primary met || fail "the database objective not met again: $(status_json)"
pass "database down: at risk and violated alerted once each (webhook and command), backup_failed once; back: met"

# 3. The DR site unreachable: the copy fails alone; back: caught up. A call to the site is
# tried five times over ~15 s (ssh_pool.hpp) in the observation of the site, then again in
# the copy: the site stays away long enough for both under sanitizers on a loaded machine.
proxy_ctl "$proxy" refuse-for 50 >/dev/null
proxy_ctl "$proxy" cut >/dev/null
wait_until 48 "copy_failed" events_at_least copy_failed 1
sleep 8
verdict_is databases primary met || fail "the primary's objective suffered from the site: $(status_json)"
[ "$(count_events "$hook/events.jsonl" copy_failed)" = 1 ] || fail "copy_failed alerted more than once"
grep -q 'job=copy target=dr1 outcome=failed.*retry_in_s=' "$TEST_DIR/daemon.log" || fail "no failed copy with a retry logged"
wait_until 90 "the copy to dr1 recovered" events_at_least copy_recovered 1
wait_until 20 "dr1 met again" verdict_is databases dr1 met
pass "the DR site down: its copy fails alone and is retried; the primary stays met; the site catches up"

# 4. kill -9 mid-backup; restart: the schedule goes on, no burst, check clean.
mark=$(wc -l <"$TEST_DIR/daemon.log")
wait_until 20 "a backup starting" bash -c "tail -n +$((mark + 1)) '$TEST_DIR/daemon.log' | grep -q 'job=backup target=databases state=started'"
kill -9 $daemon_pid
wait $daemon_pid 2>/dev/null || true
before=$(db_snapshots)
start_daemon
sleep 12
after=$(db_snapshots)
# At one backup per 4 s: at most 3 in 12 s, 5 allowing for the restart; a burst would be more.
[ $((after - before)) -ge 1 ] && [ $((after - before)) -le 5 ] ||
  fail "after the restart $((after - before)) database backups in 12 s (want 1 to 5)"
verdict_is databases primary met || fail "not met after the restart: $(status_json)"
expect_exit 0 obkeep -r "$TEST_DIR/repo" check
pass "kill -9 mid-backup, restart: $((after - before)) backups in 12 s (no burst), check clean"

# 5. The verification rotation ran and is recorded.
wait_until 30 "a verification" bash -c "grep -q 'job=verify target=primary outcome=ok' '$TEST_DIR/daemon.log'"
# /metrics shows it after the daemon's next look at the journal, not the instant the job logs.
wait_until 20 "the verification in /metrics" bash -c \
  "curl -sf --max-time 5 '$metrics/metrics' | grep -q '^obkeep_last_verification_timestamp_seconds{site=\"primary\"} [0-9]'"

# 6. SIGTERM: exit 0 within 30 s, no lock left behind.
start=$(date +%s)
kill -TERM $daemon_pid
code=0
wait $daemon_pid || code=$?
took=$(($(date +%s) - start))
daemon_pid=
[ "$code" = 0 ] || fail "the daemon exited $code on SIGTERM"
[ "$took" -le 30 ] || fail "the daemon took ${took}s to stop"
[ -z "$(ls -A "$TEST_DIR/repo/locks")" ] || fail "locks left behind: $(ls "$TEST_DIR/repo/locks")"
[ -z "$(ls -A "$TEST_DIR/dr1/locks")" ] || fail "locks left behind at dr1: $(ls "$TEST_DIR/dr1/locks")"
grep -q 'stopped=daemon' "$TEST_DIR/daemon.log" || fail "no stop line in the log"
pass "SIGTERM: exit 0 in ${took}s, no lock left behind; verification rotation recorded"
