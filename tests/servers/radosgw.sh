#!/usr/bin/env bash
# A private single-node Ceph cluster with its RADOS Gateway (S3, with Object Lock) on
# http://127.0.0.1 for tests: one monitor, one OSD on memstore (data in memory), radosgw.
# usage: radosgw.sh start DIR | stop DIR
# RADOSGW_MEMSTORE_BYTES sizes the OSD's memory store (default 2 GiB); a full store blocks
# every write, deletes too.
# Writes DIR/port, DIR/access_key and DIR/secret_key (an S3 user "obkeep"); region
# us-east-1 ("default" zonegroup answers to any), path-style. Everything (config, keyrings,
# monitor store, logs, sockets) lives under DIR/ceph; nothing is read from /etc/ceph and no
# service manager is involved. Authentication inside the cluster is off (auth none): every
# daemon listens on 127.0.0.1 only.
set -euo pipefail
cmd=$1 ROOT=$2 D=$2/ceph
if [ "$cmd" = stop ]; then
  # The gateway first, the monitor last: an OSD or gateway without its monitor waits on it.
  for name in rgw osd mon; do
    pidfile=$D/$name.pid
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$pidfile"
  done
  exit 0
fi
if [ "$cmd" = start ]; then
  # Twice at most, from nothing each time: a port picked free can be taken by another
  # test's server before the monitor or gateway binds it.
  bash "$0" start-once "$ROOT" && exit 0
  echo "radosgw: starting again from nothing" >&2
  rm -rf "$D.first"; mv "$D" "$D.first"
  exec bash "$0" start-once "$ROOT"
fi
[ "$cmd" = start-once ] || { echo "usage: radosgw.sh start DIR | stop DIR" >&2; exit 2; }
trap 'give_up "the step at line $LINENO failed" "$ROOT"' ERR

free_port() { python3 "$(dirname "$0")/unused_port.py"; }
ceph_cli() { timeout 60 ceph -c "$D/ceph.conf" "$@"; }
ceph_quick() { timeout 10 ceph -c "$D/ceph.conf" --connect-timeout 5 "$@"; }
# ceph_step WHAT CMD...: a cluster command, tried for up to 60 s (a monitor that has just
# formed its quorum answered "osd new" once with EPERM in CI); its errors go to the log.
ceph_step() {
  local what=$1 deadline=$((SECONDS + 60)); shift
  until ceph_quick "$@" >>"$D/log/steps.log" 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || give_up "$what kept failing for 60 s" "$ROOT"
    sleep 0.5
  done
}
give_up() { # WHAT: says which step failed, stops what started, fails
  echo "radosgw: $1; see $D/log" >&2
  bash "$0" stop "$2" || true
  exit 1
}

mkdir -p "$D/log" "$D/run" "$D/mon.a" "$D/osd.0" "$D/rgw"
mon_port=$(free_port)
rgw_port=$(free_port)
fsid=$(python3 -c 'import uuid; print(uuid.uuid4())')
cat >"$D/ceph.conf" <<C
[global]
fsid = $fsid
mon host = v1:127.0.0.1:$mon_port
mon initial members = a
public addr = 127.0.0.1
public network = 127.0.0.1/32
ms bind msgr2 = false
auth cluster required = none
auth service required = none
auth client required = none
keyring = $D/keyring
run dir = $D/run
admin socket = $D/run/\$name.asok
log file = $D/log/\$name.log
log to stderr = false
err to stderr = false
# one OSD: every pool is one copy, every PG on that OSD
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
osd pool default pg autoscale mode = off
osd pool default pg num = 8
osd pool default pgp num = 8
mon max pg per osd = 1000
[mon]
mon data = $D/mon.\$id
mon allow pool delete = true
[osd]
osd data = $D/osd.\$id
# placed in the CRUSH map below, not by the OSD as it starts: its requests can race its
# first monitor map and fail with "wrong fsid", which stops the OSD
osd crush update on start = false
osd class update on start = false
osd objectstore = memstore
memstore device bytes = ${RADOSGW_MEMSTORE_BYTES:-2147483648}
osd max object name len = 460
osd max object namespace len = 64
[client.rgw]
rgw data = $D/rgw
rgw frontends = beast endpoint=127.0.0.1:$rgw_port
rgw dns name = 127.0.0.1
C

ceph-authtool --create-keyring "$D/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
monmaptool --create --fsid "$fsid" --addv a "[v1:127.0.0.1:$mon_port]" "$D/monmap" >/dev/null
ceph-mon -c "$D/ceph.conf" -i a --mkfs --monmap "$D/monmap" --keyring "$D/keyring" >>"$D/log/mkfs.log" 2>&1 ||
  give_up "the monitor's store could not be made" "$2"
ceph-mon -c "$D/ceph.conf" -i a -f >>"$D/log/mon.out" 2>&1 &
echo $! >"$D/mon.pid"
# Ready once the monitor is in its quorum of one (it leads), not merely answering.
deadline=$((SECONDS + 60))
until ceph_quick quorum_status 2>>"$D/log/steps.log" | grep -q '"quorum_names":\["a"\]'; do
  kill -0 "$(cat "$D/mon.pid")" 2>/dev/null || give_up "the monitor stopped" "$2"
  [ "$SECONDS" -lt "$deadline" ] || give_up "the monitor formed no quorum in 60 s" "$2"
  sleep 0.25
done

osd_uuid=$(python3 -c 'import uuid; print(uuid.uuid4())')
ceph_step "osd new" osd new "$osd_uuid"
ceph_step "osd crush add" osd crush add osd.0 1.0 host=localhost root=default
ceph-osd -c "$D/ceph.conf" -i 0 --mkfs --osd-uuid "$osd_uuid" >>"$D/log/mkfs.log" 2>&1 ||
  give_up "the OSD's store could not be made" "$2"
# Up to three starts: an OSD that stops at once is started again.
for attempt in 1 2 3; do
  ceph-osd -c "$D/ceph.conf" -i 0 -f >>"$D/log/osd.out" 2>&1 &
  echo $! >"$D/osd.pid"
  for _ in $(seq 1 120); do
    ceph_cli osd stat 2>/dev/null | grep -q '1 up' && break 2
    kill -0 "$(cat "$D/osd.pid")" 2>/dev/null || break
    sleep 0.5
  done
  kill -0 "$(cat "$D/osd.pid")" 2>/dev/null && break
  [ "$attempt" = 3 ] && give_up "the OSD stopped" "$2"
done
ceph_cli osd stat | grep -q '1 up' || give_up "the OSD did not come up" "$2"

radosgw -c "$D/ceph.conf" -n client.rgw -f >>"$D/log/rgw.out" 2>&1 &
echo $! >"$D/rgw.pid"
for _ in $(seq 1 240); do
  curl -fs "http://127.0.0.1:$rgw_port/" >/dev/null 2>&1 && break
  kill -0 "$(cat "$D/rgw.pid")" 2>/dev/null || give_up "radosgw stopped" "$2"
  sleep 0.5
done
curl -fs "http://127.0.0.1:$rgw_port/" >/dev/null 2>&1 || give_up "radosgw did not answer" "$2"
timeout 60 radosgw-admin -c "$D/ceph.conf" -n client.rgw user create --uid=obkeep --display-name=obkeep \
  --access-key=obkeep-access --secret-key=obkeep-secret >/dev/null 2>>"$D/log/admin.log" ||
  give_up "the S3 user could not be made" "$2"
echo obkeep-access >"$2/access_key"
echo obkeep-secret >"$2/secret_key"
echo "$rgw_port" >"$2/port"
