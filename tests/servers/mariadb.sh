#!/usr/bin/env bash
# A private MariaDB 10.11 on 127.0.0.1 for tests: data under DIR, stopped by `stop DIR`.
# usage: mariadb.sh start DIR | stop DIR
# Writes DIR/port and DIR/password (user "obkeep" with all privileges; root has none over TCP).
set -euo pipefail
cmd=$1 D=$2
if [ "$cmd" = stop ]; then
  if [ -f "$D/maria/run/pid" ]; then
    pid=$(cat "$D/maria/run/pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  exit 0
fi
mkdir -p "$D/maria/run" "$D/maria/data"
chmod 755 "$D" "$D/maria"
chown -R mysql "$D/maria"
mariadb-install-db --no-defaults --datadir="$D/maria/data" --user=mysql --auth-root-authentication-method=normal \
  >"$D/maria/install.log" 2>&1
echo "maria-test-password" >"$D/password"
for attempt in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 12000)) # below the ephemeral range (32768+)
  mariadbd --no-defaults --datadir="$D/maria/data" --user=mysql --bind-address=127.0.0.1 --port="$port" \
    --socket="$D/maria/run/sock" --pid-file="$D/maria/run/pid" --log-error="$D/maria/run/err.log" \
    --log-bin="$D/maria/data/binlog" --server-id=1 --innodb-flush-log-at-trx-commit=0 --innodb-buffer-pool-size=64M \
    --local-infile=1 --skip-name-resolve >/dev/null 2>&1 &
  for _ in $(seq 1 100); do
    if mariadb-admin --no-defaults -h127.0.0.1 -P"$port" -uroot ping >/dev/null 2>&1; then
      mariadb --no-defaults -h127.0.0.1 -P"$port" -uroot -e "
        DELETE FROM mysql.global_priv WHERE User = '';
        FLUSH PRIVILEGES;
        CREATE USER 'obkeep'@'127.0.0.1' IDENTIFIED BY '$(cat "$D/password")';
        GRANT ALL PRIVILEGES ON *.* TO 'obkeep'@'127.0.0.1' WITH GRANT OPTION;"
      echo "$port" >"$D/port"
      exit 0
    fi
    kill -0 $! 2>/dev/null || break
    sleep 0.1
  done
  kill $! 2>/dev/null || true
done
echo "mariadb did not start; see $D/maria/run/err.log" >&2
exit 1
