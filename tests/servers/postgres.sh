#!/usr/bin/env bash
# A private PostgreSQL 15 on 127.0.0.1 for tests: data under DIR, stopped by `stop DIR`.
# usage: postgres.sh start DIR [extra postgresql.conf lines...] | stop DIR
# Writes DIR/port and DIR/password (superuser "postgres", scram-sha-256 over TCP).
set -euo pipefail
cmd=$1 D=$2
bin=/usr/lib/postgresql/15/bin
if [ "$cmd" = stop ]; then
  [ -f "$D/pg/data/postmaster.pid" ] && runuser -u postgres -- "$bin/pg_ctl" -D "$D/pg/data" -m immediate stop >/dev/null 2>&1
  exit 0
fi
shift 2
mkdir -p "$D/pg"
chmod 755 "$D" "$D/pg"
chown postgres "$D/pg"
echo "pg-test-password" >"$D/password"
cp "$D/password" "$D/pg/pwfile" && chown postgres "$D/pg/pwfile"
runuser -u postgres -- "$bin/initdb" -D "$D/pg/data" -U postgres -A scram-sha-256 --pwfile="$D/pg/pwfile" >"$D/pg/initdb.log" 2>&1
for attempt in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 12000)) # below the ephemeral range (32768+)
  cat >"$D/pg/data/postgresql.auto.conf" <<C
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$D/pg'
wal_level = replica
max_wal_senders = 4
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 64MB
max_connections = 40
C
  for line in "$@"; do echo "$line" >>"$D/pg/data/postgresql.auto.conf"; done
  if runuser -u postgres -- "$bin/pg_ctl" -D "$D/pg/data" -l "$D/pg/server.log" -w -t 30 start >/dev/null 2>&1; then
    echo "$port" >"$D/port"
    exit 0
  fi
done
echo "postgres did not start; see $D/pg/server.log" >&2
exit 1
