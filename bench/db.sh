#!/usr/bin/env bash
# Database benchmark: obkeep's consistent PostgreSQL and MariaDB backups and restores against
# pg_dump -Fd -j2 / pg_restore -j2, mariadb-dump --single-transaction / mariadb, and
# mydumper / myloader (and mydumper -c, compressed), on the same Open-Banking-like database in one run; then what a
# second backup stores after ~1% of the rows change. Each engine also: the RPO achieved under
# a steady write load (PostgreSQL: WAL through `obkeep wal-push`; MariaDB: `obkeep
# binlog-archive`). Engine "wal": PostgreSQL's
# archive_command, obkeep wal-push against pgbackrest archive-push, each synchronous and
# asynchronous, on the same WAL segments.
# usage: bench/db.sh [--rows N] [--work DIR] [--engines postgres,mariadb,wal] [--obkeep PATH] [--segments N] [--rpo-seconds S]
#                   [--rounds N]
# --rounds: each backup and restore against the peers runs N times in turn (3), the best counts.
# --rows is the number of consents (and of tokens); 1,200,000 makes about 1 GB per engine.
# --segments is the number of 16 MiB WAL segments each archive_command is timed on (32).
# --rpo-seconds: how long the load runs while the RPO is sampled (default 60; 0: skip).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rows=300000 work=/tmp/obkeep-dbbench engines=postgres,mariadb,wal obkeep_bin=$root/build/obkeep segments=32 rpo_seconds=60
rounds=3
while [ $# -gt 0 ]; do
  case $1 in
    --rows) rows=$2; shift ;;
    --work) work=$2; shift ;;
    --engines) engines=$2; shift ;;
    --obkeep) obkeep_bin=$2; shift ;;
    --rpo-seconds) rpo_seconds=$2; shift ;;
    --rounds) rounds=$2; shift ;;
    --segments) segments=$2; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
command -v mydumper >/dev/null && command -v pgbackrest >/dev/null && [ -x /usr/bin/time ] ||
  "$root/scripts/setup.sh" --no-build --bench
rm -rf "$work" && mkdir -p "$work" && chmod 755 "$work"
export OBKEEP_PASSWORD=bench
results=$work/results.tsv
: >"$results"
servers=()
cleanup() { for s in "${servers[@]}"; do eval "$s" || true; done; }
trap cleanup EXIT
source "$root/bench/ob_postgres.sh"

# measure ENGINE TOOL STEP CMD...: seconds and peak RSS of CMD, after dropping caches.
measure() {
  local engine=$1 tool=$2 step=$3; shift 3
  sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
  if ! /usr/bin/time -f "%e %M" "$@" >"$work/last.out" 2>"$work/last.err"; then
    echo "$engine $tool $step failed:" >&2; tail -n 5 "$work/last.err" >&2; exit 1
  fi
  local out; out=$(tail -n 1 "$work/last.err")
  printf '%s\t%s\t%s\t%s\t%s\n' "$engine" "$tool" "$step" "${out% *}" "${out#* }" >>"$results"
  echo "$engine $tool $step: ${out% *}s, ${out#* } KiB" >&2
}
record() { printf '%s\t%s\t%s\t%s\t0\n' "$@" >>"$results"; }

config() { # ENGINE URL USER PASSWORD: a home naming the database, and obkeep.toml for it
  local home=$work/$1-home
  mkdir -p "$home/repository/conf/datasources"
  cat >"$home/repository/conf/datasources/open-banking-datasources.xml" <<XML
<datasources-configuration><datasources><datasource><name>WSO2_OPEN_BANKING_DB</name>
<definition type="RDBMS"><configuration><url>$2</url><username>$3</username><password>$4</password>
</configuration></definition></datasource></datasources></datasources-configuration>
XML
  echo "$OBKEEP_PASSWORD" >"$work/password"  # a PostgreSQL restore --to-datadir writes it into restore_command
  printf '[repository]\nurl = "%s"\npassword_file = "%s"\n[deployment]\nhomes = ["%s"]\n' "$work/$1-repo" "$work/password" "$home" >"$work/$1.toml"
  fresh_repo "$1"
}
# ENGINE: a new repository, and a key for the scheduled backups (docs/database-dumps.md: a
# program's key, `key add --generate-password-file`, opens in a millisecond where a person's
# password costs scrypt's ~0.1 s); the backups below use it, restores the person's password.
fresh_repo() {
  rm -rf "$work/$1-repo" "$work/$1.key" && "$obkeep_bin" -r "$work/$1-repo" init >/dev/null
  "$obkeep_bin" -r "$work/$1-repo" -q key add --generate-password-file "$work/$1.key"
}
added() { # ENGINE: bytes the newest database snapshot added
  "$obkeep_bin" -r "$work/$1-repo" snapshots --json | python3 -c "import json, sys; print(json.load(sys.stdin)[-1]['summary']['bytes_added'])"
}

postgres() {
  local pg=$work/pg
  bash "$root/tests/servers/postgres.sh" start "$pg" "max_wal_size = 4GB" "checkpoint_timeout = 30min"
  servers+=("bash '$root/tests/servers/postgres.sh' stop '$pg'")
  local port; port=$(cat "$pg/port")
  export PGPASSWORD=$(cat "$pg/password") PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres
  psql -X -q -c "CREATE DATABASE ob"
  ob_postgres_data ob "$rows"
  record postgres data bytes "$(psql -X -At -d ob -c "SELECT pg_database_size('ob')")"
  config postgres "jdbc:postgresql://127.0.0.1:$port/ob" postgres "$PGPASSWORD"

  # Each tool in turn, $rounds times, each round from scratch (a new repository, new
  # output, dropped targets); the report keeps each tool's best: the machine's other load
  # comes and goes and should not decide the comparison.
  local round
  for ((round = 1; round <= rounds; round++)); do
    fresh_repo postgres
    measure postgres obkeep backup "$obkeep_bin" --password-file "$work/postgres.key" backup --config "$work/postgres.toml" --set databases
    rm -rf "$work/pgdump"
    measure postgres pg_dump backup pg_dump -Fd -j2 -f "$work/pgdump" ob
    psql -X -q -c "DROP DATABASE IF EXISTS restored_obkeep" -c "DROP DATABASE IF EXISTS restored_pg" -c "CREATE DATABASE restored_pg"
    measure postgres obkeep restore "$obkeep_bin" restore-db latest --config "$work/postgres.toml" \
      --database WSO2_OPEN_BANKING_DB --to "jdbc:postgresql://127.0.0.1:$port/restored_obkeep" --jobs 2
    measure postgres pg_restore restore pg_restore -j2 -d restored_pg "$work/pgdump"
  done
  record postgres obkeep stored "$(added postgres)"
  record postgres pg_dump stored "$(du -sb "$work/pgdump" | cut -f1)"
  for db in restored_obkeep restored_pg; do
    [ "$(psql -X -At -d $db -c "SELECT count(*) FROM UK_ACCOUNT_INITIATION")" = "$rows" ] || { echo "$db is incomplete" >&2; exit 1; }
  done
  # The physical path: a base backup, and back into a data directory (starting it is not timed).
  # It copies the whole cluster: the restored copies go first, so that it holds what the
  # logical backup holds (and the template databases).
  psql -X -q -c "DROP DATABASE restored_obkeep" -c "DROP DATABASE restored_pg" -c "CHECKPOINT"
  measure postgres obkeep backup-physical "$obkeep_bin" --password-file "$work/postgres.key" base-backup --config "$work/postgres.toml" --database WSO2_OPEN_BANKING_DB
  measure postgres obkeep restore-physical env -u OBKEEP_PASSWORD "$obkeep_bin" restore-db latest --config "$work/postgres.toml" \
    --database WSO2_OPEN_BANKING_DB --to-datadir "$work/pg-physical"
  rm -rf "$work/pg-physical"

  # ~1% of the rows change the way an Open Banking database changes: new consents and
  # tokens (0.5%), and status changes of the most recent consents (0.5%).
  local n=$((rows / 200))
  psql -X -q -d ob <<SQL
INSERT INTO UK_ACCOUNT_INITIATION SELECT gen_random_uuid()::text, '{"Data": {}}'::jsonb || jsonb_build_object('Nonce', md5(random()::text)),
  (random() * 1e9)::bigint, 'AwaitingAuthorisation', 'client-1', now(), 'v3.1' FROM generate_series(1, $n);
INSERT INTO IDN_OAUTH2_ACCESS_TOKEN SELECT gen_random_uuid()::text, md5(random()::text), md5(random()::text), 1, 'user1', -1234,
  now(), 3600000, 'ACTIVE', true, NULL FROM generate_series(1, $n);
UPDATE UK_ACCOUNT_INITIATION SET STATUS = 'Revoked' WHERE ctid IN
  (SELECT ctid FROM UK_ACCOUNT_INITIATION WHERE STATUS = 'Authorised' ORDER BY ctid DESC LIMIT $n);
SQL
  measure postgres obkeep backup-1pct "$obkeep_bin" --password-file "$work/postgres.key" backup --config "$work/postgres.toml" --set databases
  record postgres obkeep stored-1pct "$(added postgres)"
  # The same amount of updates scattered over the whole table (the worst case for chunks).
  psql -X -q -d ob -c "UPDATE IDN_OAUTH2_ACCESS_TOKEN SET TOKEN_STATE = 'REVOKED' WHERE random() < 0.01"
  measure postgres obkeep backup-scattered "$obkeep_bin" --password-file "$work/postgres.key" backup --config "$work/postgres.toml" --set databases
  record postgres obkeep stored-scattered "$(added postgres)"
  if [ "$rpo_seconds" -gt 0 ]; then postgres_rpo; fi
}

mariadb() {
  local my=$work/my
  bash "$root/tests/servers/mariadb.sh" start "$my"
  servers+=("bash '$root/tests/servers/mariadb.sh' stop '$my'")
  local port password; port=$(cat "$my/port"); password=$(cat "$my/password")
  sql() { command mariadb --no-defaults --default-character-set=utf8mb4 -h127.0.0.1 -P"$port" -uobkeep -p"$password" "$@"; }
  # Before each timed backup and restore: InnoDB done writing back what the last load or restore left
  # dirty (up to 30 s), so that no tool pays for the one before it.
  settle() {
    local i dirty
    for ((i = 0; i < 150; i++)); do
      dirty=$(sql -N -e "SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_pages_dirty'" | cut -f2)
      [ "${dirty:-0}" -lt 16 ] && return
      sleep 0.2
    done
  }
  sql -e "CREATE DATABASE ob"
  python3 "$root/tests/db/ob_data.py" schema mariadb | sql ob
  echo "generating $rows consents and tokens in MariaDB..." >&2
  sql ob <<SQL
INSERT INTO UK_ACCOUNT_INITIATION
  SELECT UUID(), CONCAT('{"Data": {"Permissions": ["ReadAccountsDetail", "ReadBalances"], "ExpirationDateTime": "',
         NOW() + INTERVAL FLOOR(RAND() * 365) DAY, '"}, "Risk": {}, "Nonce": "', MD5(RAND()), MD5(RAND()), '"}'),
         FLOOR(RAND() * 1e9), ELT(1 + FLOOR(RAND() * 3), 'Authorised', 'AwaitingAuthorisation', 'Revoked'),
         CONCAT('client-', FLOOR(RAND() * 50)), NOW() - INTERVAL FLOOR(RAND() * 300 * 86400) SECOND, 'v3.1'
  FROM seq_1_to_$rows;
INSERT INTO UK_ACCOUNT_CONSENT_BINDING
  SELECT CONCAT('user', FLOOR(RAND() * 1e6), '@carbon.super'), ID, CONCAT('ACC-', MD5(RAND())), FLOOR(RAND() * 1e9), 'redirect'
  FROM UK_ACCOUNT_INITIATION WHERE STATUS = 'Authorised';
INSERT INTO IDN_OAUTH2_ACCESS_TOKEN
  SELECT UUID(), CONCAT(MD5(RAND()), MD5(RAND())), CONCAT(MD5(RAND()), MD5(RAND())), FLOOR(RAND() * 100),
         CONCAT('user', FLOOR(RAND() * 1e6)), -1234, NOW() - INTERVAL FLOOR(RAND() * 30 * 86400) SECOND, 3600000, 'ACTIVE',
         RAND() < 0.9, NULL
  FROM seq_1_to_$rows;
INSERT INTO IDN_OAUTH2_ACCESS_TOKEN_SCOPE SELECT TOKEN_ID, 'accounts', -1234 FROM IDN_OAUTH2_ACCESS_TOKEN;
INSERT INTO REG_CONTENT (REG_CONTENT_DATA, REG_TENANT_ID)
  SELECT UNHEX(REPEAT(CONCAT(MD5(RAND()), MD5(RAND()), SHA2(RAND(), 256)), 16)), -1234 FROM seq_1_to_$((rows / 20));
SQL
  record mariadb data bytes "$(sql -N -e "SELECT SUM(DATA_LENGTH + INDEX_LENGTH) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'ob'")"
  config mariadb "jdbc:mysql://127.0.0.1:$port/ob" obkeep "$password"

  local round
  for ((round = 1; round <= rounds; round++)); do  # as for PostgreSQL: in turn, the best counts
    fresh_repo mariadb
    settle
    measure mariadb obkeep backup "$obkeep_bin" --password-file "$work/mariadb.key" backup --config "$work/mariadb.toml" --set databases
    settle
    measure mariadb mariadb-dump backup sh -c "mariadb-dump --no-defaults -h127.0.0.1 -P$port -uobkeep -p'$password' --single-transaction ob >'$work/ob.sql'"
    rm -rf "$work/mydumper"
    settle
    measure mariadb mydumper backup mydumper -h 127.0.0.1 -P "$port" -u obkeep -p "$password" -B ob -t 2 --trx-consistency-only -o "$work/mydumper"
    # Compressed too (gzip), as obkeep's output is: what it costs mydumper to store a quarter.
    rm -rf "$work/mydumper-c"
    settle
    measure mariadb "mydumper -c" backup mydumper -h 127.0.0.1 -P "$port" -u obkeep -p "$password" -B ob -t 2 -c --trx-consistency-only -o "$work/mydumper-c"
    sql -e "DROP DATABASE IF EXISTS restored_obkeep; DROP DATABASE IF EXISTS restored_dump; DROP DATABASE IF EXISTS restored_myloader; CREATE DATABASE restored_dump"
    settle
    measure mariadb obkeep restore "$obkeep_bin" restore-db latest --config "$work/mariadb.toml" \
      --database WSO2_OPEN_BANKING_DB --to "jdbc:mysql://127.0.0.1:$port/restored_obkeep" --jobs 2
    settle
    measure mariadb mariadb-dump restore sh -c "mariadb --no-defaults -h127.0.0.1 -P$port -uobkeep -p'$password' restored_dump <'$work/ob.sql'"
    settle
    measure mariadb mydumper restore myloader -h 127.0.0.1 -P "$port" -u obkeep -p "$password" -B restored_myloader -t 2 -d "$work/mydumper"
  done
  record mariadb obkeep stored "$(added mariadb)"
  record mariadb mariadb-dump stored "$(du -sb "$work/ob.sql" | cut -f1)"
  record mariadb mydumper stored "$(du -sb "$work/mydumper" | cut -f1)"
  record mariadb "mydumper -c" stored "$(du -sb "$work/mydumper-c" | cut -f1)"
  for db in restored_obkeep restored_dump restored_myloader; do
    [ "$(sql -N -e "SELECT COUNT(*) FROM $db.UK_ACCOUNT_INITIATION")" = "$rows" ] || { echo "$db is incomplete" >&2; exit 1; }
  done
  # Physical backups copy the whole server: the restored copies go first, so that it holds
  # what the logical backup holds (and the system tables).
  sql -e "DROP DATABASE restored_obkeep; DROP DATABASE restored_dump; DROP DATABASE restored_myloader"
  # The physical path: mariadb-backup into the repository, and back into a data directory
  # (extract and prepare; starting mariadbd on it is not timed).
  measure mariadb obkeep backup-physical "$obkeep_bin" --password-file "$work/mariadb.key" base-backup --config "$work/mariadb.toml" --database WSO2_OPEN_BANKING_DB
  measure mariadb obkeep restore-physical "$obkeep_bin" restore-db latest --config "$work/mariadb.toml" \
    --database WSO2_OPEN_BANKING_DB --to-datadir "$work/my-physical"
  rm -rf "$work/my-physical"

  local n=$((rows / 200))
  sql ob <<SQL
INSERT INTO AUDIT_LOG SELECT CONCAT('consent event ', MD5(RAND())), NOW(), 1 FROM seq_1_to_$n;
UPDATE UK_ACCOUNT_INITIATION SET STATUS = 'Revoked' WHERE STATUS = 'Authorised' ORDER BY ID LIMIT $n;
SQL
  measure mariadb obkeep backup-1pct "$obkeep_bin" --password-file "$work/mariadb.key" backup --config "$work/mariadb.toml" --set databases
  record mariadb obkeep stored-1pct "$(added mariadb)"
  sql ob -e "UPDATE IDN_OAUTH2_ACCESS_TOKEN SET TOKEN_STATE = 'REVOKED' WHERE RAND() < 0.01"
  measure mariadb obkeep backup-scattered "$obkeep_bin" --password-file "$work/mariadb.key" backup --config "$work/mariadb.toml" --set databases
  record mariadb obkeep stored-scattered "$(added mariadb)"
  if [ "$rpo_seconds" -gt 0 ]; then mariadb_rpo "$port" "$password"; fi
}

# archived_lag_ms: now minus the binlog archive's newest recovery point, in ms.
archived_lag_ms() {
  "$obkeep_bin" -r "$work/mariadb-repo" archive-ls --kind binlog --json | python3 -c "
import json, sys, time
points = [e['meta']['binlog']['recovery_point_ns'] for e in json.load(sys.stdin)]
print(int((time.time_ns() - max(points)) / 1e6) if points else 10**9)"
}

# The RPO binlog-archive achieves while ob_data.py's load writes (a few hundred transactions
# a second): once it has caught up with the binlog of the data generation, every 2 s, how
# far the archive's recovery point is behind now (what a lost server would lose).
mariadb_rpo() {
  local port=$1 password=$2
  setsid "$obkeep_bin" binlog-archive --config "$work/mariadb.toml" --database WSO2_OPEN_BANKING_DB 2>"$work/archiver.log" &
  local archiver=$!
  servers+=("kill $archiver 2>/dev/null")
  setsid bash -c "python3 '$root/tests/db/ob_data.py' load mariadb 5 | mariadb --no-defaults -h127.0.0.1 -P$port -uobkeep -p'$password' ob" >/dev/null 2>&1 &
  local load=$!
  servers+=("kill -- -$load 2>/dev/null")
  local start=$SECONDS
  until [ "$(archived_lag_ms)" -lt 15000 ]; do
    [ $((SECONDS - start)) -lt 900 ] || { echo "binlog-archive did not catch up in 900 s" >&2; exit 1; }
    sleep 2
  done
  echo "binlog-archive caught up in $((SECONDS - start)) s; sampling the RPO for $rpo_seconds s" >&2
  : >"$work/lags"
  local end=$((SECONDS + rpo_seconds))
  while [ $SECONDS -lt $end ]; do archived_lag_ms >>"$work/lags"; sleep 2; done
  kill -- -$load 2>/dev/null || true
  kill -TERM $archiver; wait $archiver || { echo "binlog-archive failed: $(tail -3 "$work/archiver.log")" >&2; exit 1; }
  local transactions; transactions=$(sql -N -e "SELECT COUNT(*) FROM ob.UK_ACCOUNT_INITIATION")
  record_rpo mariadb "$work/lags"
  echo "RPO under load: median $(sort -n "$work/lags" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }') ms, max $(sort -n "$work/lags" | tail -1) ms ($transactions consents at the end)" >&2
}

# The RPO PostgreSQL's WAL archive achieves through `obkeep wal-push` while ob_data.py's load
# writes (a few hundred transactions a second, far less than a segment in 5 s): `obkeep
# daemon` with `wal_every = "5s"` closes the current segment (pg_switch_wal()) whenever the
# newest archived one is older than that. Every 2 s the newest segment the archive holds
# (pg_stat_archiver's last_archived_wal: wal-push returned, it is in the repository) is
# fetched back and pg_waldump names its last commit: now minus that commit's time is what a
# lost server would lose.
postgres_rpo() {
  local pg=$work/rpopg w=$work/rpo
  mkdir -p "$w" && cp "$obkeep_bin" "$w/obkeep" && chmod 755 "$w" "$w/obkeep"
  echo bench >"$w/password" && chmod 600 "$w/password"
  chown -R postgres "$w"
  as_postgres() { runuser -u postgres -- env OBKEEP_PASSWORD_FILE="$w/password" "$@"; }
  as_postgres "$w/obkeep" -r "$w/repo" init >/dev/null
  as_postgres "$w/obkeep" -r "$w/repo" -q key add --generate-password-file "$w/archive.password"
  local push="'$w/obkeep' -r '$w/repo' --password-file '$w/archive.password' -q wal-push --stanza rpo %p"
  bash "$root/tests/servers/postgres.sh" start "$pg" "archive_mode = on" "archive_command = '${push//\'/\'\'}'"
  servers+=("bash '$root/tests/servers/postgres.sh' stop '$pg'")
  local port; port=$(cat "$pg/port")
  export PGPASSWORD=$(cat "$pg/password") PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres
  psql -X -q -c "CREATE DATABASE ob"
  python3 "$root/tests/db/ob_data.py" schema postgres | psql -X -q -d ob
  config postgres-rpo "jdbc:postgresql://127.0.0.1:$port/ob" postgres "$PGPASSWORD"
  printf '[daemon]\nwal_every = "5s"\n' >>"$work/postgres-rpo.toml"
  setsid "$obkeep_bin" daemon --config "$work/postgres-rpo.toml" >"$work/daemon.log" 2>&1 &
  local daemon=$!
  servers+=("kill $daemon 2>/dev/null")
  setsid bash -c "python3 '$root/tests/db/ob_data.py' load postgres 5 | psql -X -q -d ob" >/dev/null 2>&1 &
  local load=$!
  servers+=("kill -- -$load 2>/dev/null")
  sleep 12  # the daemon's first switches: the load's first segments are archived
  echo "sampling PostgreSQL's RPO for $rpo_seconds s" >&2
  : >"$work/pg-lags"
  local end=$((SECONDS + rpo_seconds)) segment commit
  while [ $SECONDS -lt $end ]; do
    segment=$(psql -X -At -c "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")
    rm -rf "$w/fetched" && mkdir "$w/fetched"
    if [ -n "$segment" ] && "$w/obkeep" -r "$w/repo" --password-file "$w/archive.password" -q wal-fetch --stanza rpo \
      "$segment" "$w/fetched/$segment"; then
      # pg_waldump reads the start from the file's name, and stops with an error at the
      # zeroed end of a switched segment: what it printed counts.
      commit=$(/usr/lib/postgresql/15/bin/pg_waldump "$w/fetched/$segment" 2>/dev/null |
        grep -o 'COMMIT [0-9-]* [0-9:.]* UTC' | tail -n 1 || true)
      [ -n "$commit" ] && python3 -c "
import datetime, sys, time
t = datetime.datetime.strptime(sys.argv[1], 'COMMIT %Y-%m-%d %H:%M:%S.%f UTC').replace(tzinfo=datetime.timezone.utc)
print(int((time.time() - t.timestamp()) * 1000))" "$commit" >>"$work/pg-lags"
    fi
    sleep 2
  done
  kill -- -$load 2>/dev/null || true
  kill -TERM $daemon; wait $daemon || { echo "the daemon failed: $(tail -3 "$work/daemon.log")" >&2; exit 1; }
  [ "$(psql -X -At -c "SELECT failed_count FROM pg_stat_archiver")" = 0 ] || { echo "postgres rpo: wal-push failed" >&2; exit 1; }
  [ -s "$work/pg-lags" ] || { echo "postgres rpo: no archived segment held a commit" >&2; exit 1; }
  record_rpo postgres "$work/pg-lags"
  echo "PostgreSQL RPO under load: median $(sort -n "$work/pg-lags" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }') ms, max $(sort -n "$work/pg-lags" | tail -1) ms" >&2
}

# record_rpo ENGINE FILE: the median, worst and number of the lags (ms) in FILE, in seconds.
record_rpo() {
  record "$1" obkeep rpo-median "$(sort -n "$2" | awk '{ v[NR] = $1 } END { printf "%.2f", v[int((NR + 1) / 2)] / 1000 }')"
  record "$1" obkeep rpo-max "$(sort -n "$2" | tail -1 | awk '{ printf "%.2f", $1 / 1000 }')"
  record "$1" obkeep rpo-samples "$(wc -l <"$2")"
}

# The archiver's work per segment, as PostgreSQL sees it: $segments segments wait while
# archive_command is empty (archiving paused), then the time from setting the command until
# the archiver has handed the last one over — and, for obkeep --async, until its spool has
# drained into the repository too (pgbackrest's async mode reports a segment done only once
# it is in the repository). obkeep uses a key made by `key add --generate-password-file`. Both repositories encrypted (obkeep always; pgbackrest
# aes-256-cbc) and compressed with zstd; pgbackrest async with process-max 2 (the cores).
wal() {
  local pg=$work/walpg w=$work/wal
  bash "$root/tests/servers/postgres.sh" start "$pg" "archive_mode = on" "archive_command = ''" \
    "max_wal_size = 8GB" "checkpoint_timeout = 30min"
  servers+=("bash '$root/tests/servers/postgres.sh' stop '$pg'")
  local port; port=$(cat "$pg/port")
  export PGPASSWORD=$(cat "$pg/password") PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres
  mkdir -p "$w" && cp "$obkeep_bin" "$w/obkeep" && chmod 755 "$w" "$w/obkeep"
  echo bench >"$w/password" && chmod 600 "$w/password"
  cat >"$w/pgbackrest.conf" <<CONF
[global]
repo1-path=$w/pgbackrest-repo
repo1-cipher-type=aes-256-cbc
repo1-cipher-pass=bench
compress-type=zst
process-max=2
spool-path=$w/pgbackrest-spool
lock-path=$w/pgbackrest-lock
log-path=$w/pgbackrest-log
log-level-console=warn
log-level-file=off
[bench]
pg1-path=$pg/pg/data
pg1-port=$port
pg1-socket-path=$pg/pg
CONF
  chown -R postgres "$w"
  as_pg() { runuser -u postgres -- env PGPASSWORD="$PGPASSWORD" OBKEEP_PASSWORD_FILE="$w/password" "$@"; }
  as_pg "$w/obkeep" -r "$w/obkeep-repo" init >/dev/null
  # archive_command's own key: a random password, so no slow key derivation per segment.
  as_pg "$w/obkeep" -r "$w/obkeep-repo" -q key add --generate-password-file "$w/archive.password"
  as_pg pgbackrest --config="$w/pgbackrest.conf" --stanza=bench stanza-create >/dev/null
  psql -X -q -c "CREATE TABLE wal_load (id bigserial, payload text)"
  local obkeep="'$w/obkeep' -r '$w/obkeep-repo' --password-file '$w/archive.password' -q wal-push --stanza bench"
  local pgbackrest="pgbackrest --config='$w/pgbackrest.conf' --stanza=bench"
  archive_round() { # TOOL COMMAND [SPOOL]: time to archive $segments fresh segments with COMMAND
    psql -X -q -c "ALTER SYSTEM SET archive_command = ''" -c "SELECT pg_reload_conf()" >/dev/null
    local i last
    for ((i = 0; i < segments; i++)); do
      # About one segment of WAL: rows of random text, as compressible as real row data.
      psql -X -q -c "INSERT INTO wal_load (payload) SELECT md5(random()::text) || md5(random()::text) || repeat('x', 40)
                     FROM generate_series(1, 75000)"
      last=$(psql -X -At -c "SELECT pg_walfile_name(pg_switch_wal())")
    done
    local command=${2//\'/\'\'}
    local start; start=$(date +%s%N)
    psql -X -q -c "ALTER SYSTEM SET archive_command = '$command'" -c "SELECT pg_reload_conf()" >/dev/null
    until [ "$(psql -X -At -c "SELECT coalesce(last_archived_wal, '') >= '$last' FROM pg_stat_archiver")" = t ]; do sleep 0.05; done
    if [ -n "${3:-}" ]; then until [ -z "$(ls "$3")" ]; do sleep 0.05; done; fi
    local seconds; seconds=$(python3 -c "print(($(date +%s%N) - $start) / 1e9)")
    [ "$(psql -X -At -c "SELECT failed_count FROM pg_stat_archiver")" = 0 ] || { echo "wal: $1 failed" >&2; exit 1; }
    echo "wal $1: $segments segments in ${seconds}s" >&2
    best[$1]=$(python3 -c "print(min($seconds, ${best[$1]:-1e9}))")
  }
  # Each tool twice, in turn, and its better run counts: the machine's other load comes
  # and goes, and should not decide the comparison.
  local -A best=()
  local round
  for round in 1 2; do
    archive_round obkeep "$obkeep %p"
    archive_round pgbackrest "$pgbackrest archive-push %p"
    archive_round obkeep-async "$obkeep --async --spool '$w/obkeep-spool' %p" "$w/obkeep-spool/bench/queue"
    archive_round pgbackrest-async "$pgbackrest --archive-async archive-push %p"
  done
  for tool in "${!best[@]}"; do record wal "$tool" archive "${best[$tool]}"; done
  record wal segments count "$segments"
  record wal obkeep stored "$(du -sb "$w/obkeep-repo" | cut -f1)"
  record wal pgbackrest stored "$(du -sb "$w/pgbackrest-repo/archive" | cut -f1)"
}

IFS=, read -r -a engine_list <<<"$engines"
for engine in "${engine_list[@]}"; do "$engine"; done

mkdir -p "$root/bench/out"
python3 "$root/bench/db_report.py" "$results" "$rows" "$root/bench/out/db-$(date -u +%Y%m%dT%H%M%SZ)"
