#!/usr/bin/env bash
# The fault-injecting TCP proxy (faultproxy.py) on 127.0.0.1 in front of a test server.
# usage: faultproxy.sh start DIR TARGET_PORT [faultproxy.py options: --delay-ms MS, --http, ...]
#        faultproxy.sh ctl DIR COMMAND [ARGS...]  (prints the answer; exit 1 on "error: ...")
#        faultproxy.sh stop DIR
# Writes DIR/port (where clients connect), DIR/control_port and DIR/faultproxy.log. The
# proxy exits by itself when the process that ran "start" (the test) is gone, or after
# --max-seconds (600 unless given).
# FAULTPROXY_IMPL=c runs the C++ latency proxy ($FAULTPROXY_BIN, default build/latency_proxy;
# bench/latency_proxy.cpp) for start and ctl instead: latency only (--delay-ms, the commands
# stats, delay, cut, pass, quit), for benchmarks that need more throughput than Python gives.
set -euo pipefail
cmd=$1 D=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
proxy=(python3 "$here/faultproxy.py")
if [ "${FAULTPROXY_IMPL:-python}" = c ]; then
  bin=${FAULTPROXY_BIN:-$here/../../build/latency_proxy}
  [ -x "$bin" ] || [ "$cmd" = stop ] || { echo "faultproxy.sh: no latency proxy at $bin (cmake --build build --target latency_proxy)" >&2; exit 2; }
  proxy=("$bin")
elif [ "${FAULTPROXY_IMPL:-python}" != python ]; then
  echo "faultproxy.sh: FAULTPROXY_IMPL is c or python, not $FAULTPROXY_IMPL" >&2
  exit 2
fi
case $cmd in
  stop)
    [ -f "$D/faultproxy.pid" ] || exit 0
    pid=$(cat "$D/faultproxy.pid")
    kill "$pid" 2>/dev/null || exit 0
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    ;;
  ctl)
    shift 2
    "${proxy[@]}" ctl "$(cat "$D/control_port")" "$@"
    ;;
  start)
    target=$3
    shift 3
    mkdir -p "$D"
    rm -f "$D/port" "$D/control_port"
    # $PPID is the test that ran us: the proxy outlives this script but not the test.
    "${proxy[@]}" serve --target-port "$target" --port-file "$D/port" \
      --control-port-file "$D/control_port" --parent-pid "$PPID" --log "$D/faultproxy.log" "$@" \
      </dev/null >>"$D/faultproxy.log" 2>&1 &
    echo $! >"$D/faultproxy.pid"
    for _ in $(seq 1 100); do
      [ -s "$D/port" ] && [ -s "$D/control_port" ] && exit 0
      kill -0 "$(cat "$D/faultproxy.pid")" 2>/dev/null || break
      sleep 0.1
    done
    echo "faultproxy did not start; see $D/faultproxy.log" >&2
    cat "$D/faultproxy.log" >&2
    exit 1
    ;;
  *) echo "usage: faultproxy.sh start DIR TARGET_PORT [options] | ctl DIR COMMAND | stop DIR" >&2; exit 2 ;;
esac
