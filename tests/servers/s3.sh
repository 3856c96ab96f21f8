#!/usr/bin/env bash
# A private single-node OpenStack Swift with its S3 API (s3api) on https://127.0.0.1 for tests.
# usage: s3.sh start DIR [http] | stop DIR | restart DIR
# Writes DIR/port and DIR/cert.pem (self-signed, for 127.0.0.1). Access key "test:tester",
# secret "testing", region us-east-1, path-style. https, because Swift's s3api refuses the
# aws-chunked uploads some clients send over plain http; "http" serves plain http instead
# (obkeep's s3+http:// URLs sign whole payloads, so they work), which lets the fault proxy
# (faultproxy.sh --http) read and answer requests. "restart" starts a stopped store again
# with its data, configuration and port.
set -euo pipefail
cmd=$1 D=$2/swift
if [ "$cmd" = stop ]; then
  for pidfile in "$D"/*.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  exit 0
fi

healthy() { # PORT: the proxy answers its health check and the servers behind it listen
  local scheme name port; scheme=$(cat "$D/scheme")
  curl -fs --cacert "$D/cert.pem" "$scheme://127.0.0.1:$1/healthcheck" >/dev/null 2>&1 || return 1
  # A proxy up before the account and container servers answers a listing with 404
  # NoSuchBucket (fault_s3 failed on it after a restart).
  for name in account container object; do
    port=$(awk '$1 == "bind_port" {print $3; exit}' "$D/$name.conf")
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || return 1
  done
}
launch() { # PORT: starts the four servers from their configs; fails unless healthy in 30 s
  local name
  for name in account container object proxy; do
    "swift-$name-server" "$D/$name.conf" >>"$D/log/$name.log" 2>&1 &
    echo $! >"$D/$name.pid"
  done
  for _ in $(seq 1 150); do
    healthy "$1" && return 0
    kill -0 "$(cat "$D/proxy.pid")" 2>/dev/null || break
    sleep 0.2
  done
  return 1
}

if [ "$cmd" = restart ]; then
  launch "$(cat "$2/port")" && exit 0
  echo "swift did not restart; see $D/log" >&2
  exit 1
fi
scheme=https
[ "${3:-}" = http ] && scheme=http
mkdir -p "$D/srv/d1" "$D/log"
echo "$scheme" >"$D/scheme"
openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=127.0.0.1" \
  -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" -keyout "$D/key.pem" -out "$D/cert.pem" 2>/dev/null
cp "$D/cert.pem" "$2/cert.pem"
cat >"$D/swift.conf" <<C
[swift-hash]
swift_hash_path_suffix = obkeeptest
swift_hash_path_prefix = obkeeptest
[storage-policy:0]
name = gold
default = yes
C

ports_free() { # PORT...: none of them is listening on 127.0.0.1
  python3 -c 'import socket,sys
for p in sys.argv[1:]:
    s = socket.socket(); s.bind(("127.0.0.1", int(p))); s.close()' "$@" 2>/dev/null
}

write_configs() { # PROXY_PORT: rings and configs for the proxy and its three servers
  local proxy=$1 kind name port
  rm -f "$D"/*.builder "$D"/*.ring.gz
  for kind in account:$((proxy + 3)) container:$((proxy + 2)) object:$((proxy + 1)); do
    name=${kind%%:*} port=${kind##*:}
    swift-ring-builder "$D/$name.builder" create 6 1 1 >/dev/null
    swift-ring-builder "$D/$name.builder" add "r1z1-127.0.0.1:$port/d1" 100 >/dev/null
    swift-ring-builder "$D/$name.builder" rebalance >/dev/null || true
    cat >"$D/$name.conf" <<C
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $port
devices = $D/srv
mount_check = false
swift_dir = $D
workers = 0
log_name = $name
[pipeline:main]
pipeline = $name-server
[app:$name-server]
use = egg:swift#$name
C
  done
  cat >"$D/proxy.conf" <<C
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $proxy
swift_dir = $D
workers = 0
$([ "$scheme" = https ] && printf 'cert_file = %s\nkey_file = %s' "$D/cert.pem" "$D/key.pem")
[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats s3api tempauth copy slo dlo proxy-logging proxy-server
[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:cache]
use = egg:swift#memcache
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:s3api]
use = egg:swift#s3api
location = us-east-1
[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = testing .admin
[filter:copy]
use = egg:swift#copy
[filter:slo]
use = egg:swift#slo
[filter:dlo]
use = egg:swift#dlo
C
}

for attempt in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 12000)) # below the ephemeral range (32768+)
  ports_free "$port" $((port + 1)) $((port + 2)) $((port + 3)) || continue
  write_configs "$port"
  if launch "$port"; then
    echo "$port" >"$2/port"
    exit 0
  fi
  bash "$0" stop "$2"  # a port taken meanwhile: try another
done
echo "swift did not start; see $D/log" >&2
exit 1
