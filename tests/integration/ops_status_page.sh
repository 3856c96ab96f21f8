#!/usr/bin/env bash
# What an operator looks at: the daemon's status page, /status.json and the drill report
# render in headless Chromium, and the figures read back from the rendered DOM (not the
# HTML source, which holds only data and a script) are the ones status reports: each
# objective's verdict, a recovery-point chart per objective, the drill history with its
# measured RTO. `status` prints the last drill's RTO against the target. The systemd units
# pass systemd-analyze verify.
source "$(dirname "$0")/../lib.sh"
command -v chromium >/dev/null || fail "chromium is not installed (scripts/setup.sh installs it)"
cd "$TEST_DIR"

obkeep sample-deployment "$TEST_DIR/dep" >/dev/null
km=$TEST_DIR/dep/wso2-obkm-1.5.0
am=$TEST_DIR/dep/wso2-obam-1.5.0
deployment_config "$km" "$am"
config=$TEST_DIR/obkeep.toml
cat >>"$config" <<TOML
[policy.databases]
rpo = "1h"
rto = "30m"
frequency = "20m"
sites = ["dr1"]
[policy.artifacts]
rpo = "4h"
rto = "1h"
[[dr_site]]
name = "dr1"
url = "$TEST_DIR/dr1"
sets = ["databases", "artifacts", "instance"]
[daemon]
observe_every = "1s"
drill_every = "5s"  # the command line's drill below counts: the next is due 5 s after it
TOML
obkeep --config "$config" --site dr1 init >/dev/null
# History before the daemon: two backups and a drill from the command line.
obkeep backup --config "$config" -q
obkeep backup --config "$config" --set databases -q
obkeep copy --config "$config" -q
expect_exit 0 obkeep drill --config "$config" --site dr1 --report "$TEST_DIR/drill.html"

# status prints the last drill's measured RTO against the RTO.
expect_exit 0 obkeep status --config "$config"
grep -Eq "^  dr1 +[0-9T:-]+  passed, measured RTO [0-9:]+ against an RTO of 30:00 \(met\)" "$TEST_DIR/stdout" ||
  fail "status shows no last drill: $(cat "$TEST_DIR/stdout")"
expect_exit 0 obkeep status --config "$config" --json
python3 -c "
import json
d = json.load(open('$TEST_DIR/stdout'))
dr1 = [o for o in d['objectives'] if o['site'] == 'dr1']
assert dr1 and all(o['last_drill'] and o['last_drill']['verdict'] == 'passed' and o['last_drill']['rto_met'] for o in dr1), dr1
" || fail "status --json: no last drill per objective: $(cat "$TEST_DIR/stdout")"
pass "status reports the last drill's measured RTO against each RTO"

# The daemon: its scheduled drill from dr1 comes due 5 s after the command line's; it
# serves the page.
"$OBKEEP_BIN" daemon --config "$config" --metrics-listen 127.0.0.1:0 >"$TEST_DIR/daemon.log" 2>&1 &
daemon_pid=$!
add_cleanup "kill -9 $daemon_pid 2>/dev/null"
for _ in $(seq 1 900); do grep -q 'job=drill target=dr1 outcome=' "$TEST_DIR/daemon.log" && break; sleep 0.1; done
grep -q 'job=drill target=dr1 outcome=ok' "$TEST_DIR/daemon.log" || fail "the daemon's drill: $(cat "$TEST_DIR/daemon.log")"
metrics="http://$(grep -o 'listening=[0-9.:]*' "$TEST_DIR/daemon.log" | head -n 1 | cut -d= -f2)"
sleep 2  # a round after the drill: the journal read again
curl -sf --max-time 10 "$metrics/status.json" >"$TEST_DIR/status.json" || fail "GET /status.json"
curl -sf --max-time 10 "$metrics/" >"$TEST_DIR/page.html" || fail "GET /"
kill -TERM $daemon_pid
wait $daemon_pid || fail "the daemon exited non-zero on SIGTERM"

# render FILE: the DOM after the page's script ran, and a screenshot.
render() {
  local name=$1
  timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --user-data-dir="$TEST_DIR/chromium" \
    --dump-dom "file://$TEST_DIR/$name.html" >"$TEST_DIR/$name.dom" 2>"$TEST_DIR/$name.chromium.log" ||
    fail "chromium could not render $name.html: $(tail -n 3 "$TEST_DIR/$name.chromium.log")"
  timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --user-data-dir="$TEST_DIR/chromium" \
    --window-size=1280,1600 --screenshot="$TEST_DIR/$name.png" "file://$TEST_DIR/$name.html" >/dev/null 2>&1 ||
    fail "chromium could not take a screenshot of $name.html"
  [ "$(head -c 8 "$TEST_DIR/$name.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "$name.png is not a PNG"
  [ "$(stat -c %s "$TEST_DIR/$name.png")" -gt 10000 ] || fail "$name.png is nearly empty"
  python3 "$OBKEEP_SOURCE_DIR/tests/read_dom.py" "$TEST_DIR/$name.dom" >"$TEST_DIR/$name.read.json"
}

render page
grep -q 'class="objective"' "$TEST_DIR/page.html" && fail "the page's source already holds rows: the test would not prove rendering"
python3 - "$TEST_DIR/page.read.json" "$TEST_DIR/status.json" <<'PY' || fail "the rendered status page does not show what status.json says"
import json, sys
page, status = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
objectives = status["objectives"]
assert page["title"] == "obkeep status", page["title"]
assert len(page["objectives"]) == len(objectives) > 0, (len(page["objectives"]), len(objectives))
for row, o in zip(page["objectives"], objectives):
    assert row["verdict"] == o["verdict"], (row, o)
    assert row["rpo-s"] == str(o["rpo_s"]), (row, o)
    assert abs(int(row["age-s"]) - o["age_s"]) <= 5, (row, o)
assert all(row["verdict"] == "met" for row in page["objectives"]), page["objectives"]
# A chart per objective, each with a drawn line through its recovery points.
assert len(page["charts"]) == len(objectives), page["charts"]
assert all(c["points"] >= 2 and c["paths"] >= 1 for c in page["charts"]), page["charts"]
# The drill history: the command line's drill and the daemon's, newest first.
assert len(page["drills"]) >= 2, page["drills"]
assert all(d["verdict"] == "passed" and float(d["measured-rto-s"]) > 0 for d in page["drills"]), page["drills"]
last = [o["last_drill"] for o in objectives if o["site"] == "dr1"][0]
assert abs(float(page["drills"][0]["measured-rto-s"]) - last["measured_rto_s"]) < 1e-6, (page["drills"][0], last)
PY
pass "the status page renders: every objective's verdict, a chart each, the drill history, as status.json says"

render drill
python3 - "$TEST_DIR/drill.read.json" <<'PY' || fail "the rendered drill report"
import json, sys
report = json.load(open(sys.argv[1]))
assert report["title"] == "obkeep recovery drill", report["title"]
steps, bars = report["steps"], report["timeline_bars"]
assert len(steps) >= 4 and len(bars) == len(steps), (len(steps), len(bars))
assert all(s["ok"] == "true" for s in steps), steps
# Each bar starts where its step started (the homes and databases are recovered side by
# side, so bars may overlap); the open comes first and every bar ends within the measured RTO.
measured = float(report["figures"]["measured-rto"])
starts = [float(bar["start-s"]) for bar in bars]
assert starts == sorted(starts) and starts[0] < 1e-3, bars
ends = [float(bar["start-s"]) + float(bar["duration-s"]) for bar in bars]
assert 0 < max(ends) <= measured + 1e-3, (ends, measured)
assert all(s >= ends[0] - 1e-3 for s in starts[1:]), ("a recovery started before the repository was open", bars)
assert report["figures"]["rto"] == "1800", report["figures"]
PY
pass "the drill report renders a timeline of its steps, each from its start, within the measured RTO"

# The systemd units, pointed at this build.
command -v systemd-analyze >/dev/null || fail "systemd-analyze is not installed (scripts/setup.sh installs systemd)"
mkdir -p "$TEST_DIR/units"
for unit in "$OBKEEP_SOURCE_DIR"/contrib/systemd/*; do
  sed "s#/usr/local/bin/obkeep#$OBKEEP_BIN#" "$unit" >"$TEST_DIR/units/$(basename "$unit")"
done
SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no "$TEST_DIR"/units/* >"$TEST_DIR/verify.log" 2>&1 ||
  fail "systemd-analyze verify: $(cat "$TEST_DIR/verify.log")"
[ ! -s "$TEST_DIR/verify.log" ] || fail "systemd-analyze verify warns: $(cat "$TEST_DIR/verify.log")"
pass "the systemd units pass systemd-analyze verify"
