# Shared helpers for integration tests (sourced). Each test gets its own temp dir,
# removed on exit; OBKEEP_BIN is the binary under test.
set -euo pipefail
: "${OBKEEP_BIN:?OBKEEP_BIN must name the obkeep binary}"
: "${OBKEEP_SOURCE_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
# The benchmarks' choice of proxy (bench/remote.sh exports it): the fault tests need the
# faults only faultproxy.py has.
unset FAULTPROXY_IMPL FAULTPROXY_BIN
TEST_DIR=$(mktemp -d /tmp/obkeep-test.XXXXXX)
chmod 755 "$TEST_DIR"
_cleanups=()
on_exit() { # run registered cleanups in reverse, then remove the temp dir
  local i
  for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do eval "${_cleanups[$i]}" || true; done
  # A server or JVM just killed may still be writing its last files: try once more.
  rm -rf "$TEST_DIR" 2>/dev/null || { sleep 1 && rm -rf "$TEST_DIR"; } || true
}
trap on_exit EXIT
add_cleanup() { _cleanups+=("$1"); }

export OBKEEP_PASSWORD=${OBKEEP_PASSWORD:-test-password}
unset OBKEEP_PASSWORD_FILE OBKEEP_REPOSITORY

obkeep() { "$OBKEEP_BIN" "$@"; }
# unused_port: a TCP port no socket on 127.0.0.1 holds now, below the kernel's ephemeral
# range (32768+), so no client connection of a test running beside this one can hold it.
unused_port() { python3 "$OBKEEP_SOURCE_DIR/tests/servers/unused_port.py"; }

# binary_for_other_users: prints the path of a copy of the binary that any user can run.
# Tests that run obkeep as nobody or postgres need it: the checkout may be under /root,
# which is mode 0700 on Debian.
binary_for_other_users() {
  local copy=$TEST_DIR/bin/obkeep
  if [ ! -x "$copy" ]; then
    mkdir -p "$TEST_DIR/bin" && chmod 755 "$TEST_DIR/bin"
    cp "$OBKEEP_BIN" "$copy" && chmod 755 "$copy"
  fi
  echo "$copy"
}

# as_postgres_setup: for tests whose PostgreSQL runs an archive_command that is obkeep: bin
# (PostgreSQL 15's), OBKEEP_BIN readable by postgres, $TEST_DIR/repo.password owned by it,
# and as_postgres CMD..., which runs a command as postgres with that password.
as_postgres_setup() {
  bin=/usr/lib/postgresql/15/bin
  [ -x "$bin/postgres" ] || fail "PostgreSQL 15 is not installed (scripts/setup.sh installs it)"
  id postgres >/dev/null 2>&1 || fail "no postgres user"
  OBKEEP_BIN=$(binary_for_other_users)
  echo "archive-repository-password" >"$TEST_DIR/repo.password"
  chown postgres "$TEST_DIR/repo.password" && chmod 600 "$TEST_DIR/repo.password"
}
as_postgres() { runuser -u postgres -- env -u OBKEEP_PASSWORD OBKEEP_PASSWORD_FILE="$TEST_DIR/repo.password" "$@"; }

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

# wait_for_growth START CMD...: polls CMD (which prints a number) until it exceeds START, for up
# to 60 s, and prints the new value. Keeps load tests exact on a busy machine, where a fixed
# sleep may pass with the load generator not yet scheduled.
wait_for_growth() {
  local start=$1 now i; shift
  for ((i = 0; i < 600; i++)); do
    now=$("$@")
    [ "$now" -gt "$start" ] && { echo "$now"; return; }
    sleep 0.1
  done
  fail "no growth past $start from: $*"
}

# expect_exit CODE CMD...: run CMD, require exit code CODE; stderr saved in $TEST_DIR/stderr.
expect_exit() {
  local want=$1; shift
  local got=0
  "$@" >"$TEST_DIR/stdout" 2>"$TEST_DIR/stderr" || got=$?
  [ "$got" = "$want" ] || fail "'$*' exited $got, want $want; stderr: $(cat "$TEST_DIR/stderr")"
}
# expect_stderr_matches REGEX: the last expect_exit's stderr matches.
# json_field NAME <FILE: the field of the last JSON line (a command's --json summary).
json_field() { python3 -c "import json,sys; print(json.loads(sys.stdin.read().splitlines()[-1])['$1'])"; }
expect_stderr_matches() {
  grep -Eq -- "$1" "$TEST_DIR/stderr" || fail "stderr does not match /$1/: $(cat "$TEST_DIR/stderr")"
}
# damage_pack FILE: flips one bit in the middle of a stored pack (a damaged disk or site).
damage_pack() {
  python3 - "$1" <<'PY'
import os, sys
path = sys.argv[1]
os.chmod(path, 0o644)
middle = os.path.getsize(path) // 2
with open(path, 'r+b') as f:
    f.seek(middle)
    b = f.read(1)
    f.seek(middle)
    f.write(bytes([b[0] ^ 0x10]))
PY
}
# A one-line error: stderr has exactly one line.
expect_one_line_error() {
  local n; n=$(wc -l <"$TEST_DIR/stderr")
  [ "$n" = 1 ] || fail "want a one-line error, got $n lines: $(cat "$TEST_DIR/stderr")"
}

# tree_manifest DIR: one line per entry with type, mode, owner, size, mtime (ns),
# link target, xattrs and a content hash — two trees are equal when their manifests are.
tree_manifest() {
  python3 "$OBKEEP_SOURCE_DIR/tests/tree_manifest.py" "$@"
}

# write_home HOME DATASOURCE_XML_BODY: a minimal Carbon home whose master-datasources.xml
# holds the given <datasource> elements.
write_home() {
  mkdir -p "$1/repository/conf/datasources" "$1/repository/database"
  {
    echo '<?xml version="1.0" encoding="UTF-8"?>'
    echo '<datasources-configuration xmlns:svns="http://org.wso2.securevault/configuration">'
    echo '  <providers><provider>org.wso2.carbon.ndatasource.rdbms.RDBMSDataSourceReader</provider></providers>'
    echo '  <datasources>'
    printf '%s\n' "$2"
    echo '  </datasources>'
    echo '</datasources-configuration>'
  } >"$1/repository/conf/datasources/master-datasources.xml"
}
# start_mariadb: a private MariaDB 10.11 in $TEST_DIR/my, stopped at exit; sets my, port
# and password, and sql runs the client on it as the test user.
start_mariadb() {
  command -v mariadbd >/dev/null || fail "MariaDB is not installed (scripts/setup.sh installs it)"
  my=$TEST_DIR/my
  bash "$OBKEEP_SOURCE_DIR/tests/servers/mariadb.sh" start "$my"
  add_cleanup "bash '$OBKEEP_SOURCE_DIR/tests/servers/mariadb.sh' stop '$my'"
  port=$(cat "$my/port")
  password=$(cat "$my/password")
}
sql() { mariadb --no-defaults --default-character-set=utf8mb4 -h127.0.0.1 -P"$port" -uobkeep -p"$password" "$@"; }
# start_mariadb_on DIR: a mariadbd on a restored data directory (its users are the
# source's), stopped at exit; sets rport, and rsql runs the client on it.
start_mariadb_on() {
  chmod 755 "$TEST_DIR"
  rport=$(unused_port)
  mariadbd --no-defaults --datadir="$1" --user=mysql --bind-address=127.0.0.1 --port="$rport" --socket="$1/sock" \
    --pid-file="$1/pid" --log-error="$1/err.log" --innodb-buffer-pool-size=64M >/dev/null 2>&1 &
  add_cleanup "kill $! 2>/dev/null; sleep 1"
  for _ in $(seq 1 100); do
    mariadb-admin --no-defaults -h127.0.0.1 -P"$rport" -uobkeep -p"$password" ping >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  fail "mariadbd did not start on $1: $(tail -3 "$1/err.log")"
}
rsql() { mariadb --no-defaults -h127.0.0.1 -P"$rport" -uobkeep -p"$password" "$@"; }
# expect_invariants CLIENT DB: every invariant of tests/db/ob_data.py's load holds in DB
# (CLIENT is sql or rsql).
expect_invariants() {
  local query
  while read -r query; do
    [ "$("$1" -N "$2" -e "$query")" = 0 ] || fail "invariant broken in $2: $query"
  done < <(python3 "$OBKEEP_SOURCE_DIR/tests/db/ob_data.py" invariants mariadb)
}
# mariadb_fingerprint DB: an md5 of every table of tests/db/ob_data.py's schema, rows in a fixed order.
mariadb_fingerprint() {
  local table cols
  for table in $(python3 "$OBKEEP_SOURCE_DIR/tests/db/ob_data.py" tables); do
    printf '%s ' "$table"
    cols=$(sql -N -e "SELECT GROUP_CONCAT(CONCAT('COALESCE(HEX(\`', COLUMN_NAME, '\`),''N'')') ORDER BY ORDINAL_POSITION SEPARATOR ',') FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '$1' AND TABLE_NAME = '$table'")
    sql -N "$1" -e "SELECT CONCAT_WS(',', $cols) AS r FROM $table ORDER BY r" | md5sum
  done
}

# start_sshd: a private OpenSSH sshd in $TEST_DIR/sshd, stopped at exit; sets sshd (its
# directory, with the client configs tests/servers/sshd.sh writes), port and user.
start_sshd() {
  unset SSH_AUTH_SOCK  # the identity files of the test configs, not whatever agent runs here
  sshd=$TEST_DIR/sshd
  bash "$OBKEEP_SOURCE_DIR/tests/servers/sshd.sh" start "$sshd"
  add_cleanup "bash '$OBKEEP_SOURCE_DIR/tests/servers/sshd.sh' stop '$sshd'"
  port=$(cat "$sshd/port")
  user=$(id -un)
}

# datasource NAME URL USER PASSWORD: one <datasource> element.
datasource() {
  cat <<XML
    <datasource>
      <name>$1</name>
      <jndiConfig><name>jdbc/$1</name></jndiConfig>
      <definition type="RDBMS"><configuration>
        <url>$2</url><username>$3</username><password>$4</password>
      </configuration></definition>
    </datasource>
XML
}

# deployment_config HOME...: $TEST_DIR/obkeep.toml naming a new repository $TEST_DIR/repo
# (initialised) and the homes; tests append sections they need.
deployment_config() {
  {
    printf '[repository]\nurl = "%s"\n[deployment]\nhomes = [' "$TEST_DIR/repo"
    local first=1 home
    for home in "$@"; do
      [ $first = 1 ] || printf ', '
      printf '"%s"' "$home"
      first=0
    done
    printf ']\n'
  } >"$TEST_DIR/obkeep.toml"
  obkeep -r "$TEST_DIR/repo" init >/dev/null
}

# proxy_ctl DIR COMMAND [ARGS...]: a command to the fault proxy started with
# tests/servers/faultproxy.sh in DIR (cut, refuse N, http-error 503 3, pass, stats, ...);
# prints its answer and fails the test on an error answer.
proxy_ctl() {
  local dir=$1; shift
  bash "$OBKEEP_SOURCE_DIR/tests/servers/faultproxy.sh" ctl "$dir" "$@" || fail "proxy command '$*': error"
}
# proxy_stat DIR FIELD: one counter of the fault proxy in DIR (bytes_up, requests, ...).
proxy_stat() {
  proxy_ctl "$1" stats | python3 -c "import json,sys; print(json.load(sys.stdin)['$2'])"
}

# start_timed NAME LIMIT CMD...: runs CMD in the background under `timeout LIMIT` (a hang
# fails the test instead of hanging CI); its output and exit code go to $TEST_DIR/NAME.*.
# wait_timed NAME: waits for it, sets RUN_EXIT and RUN_SECONDS, copies its stderr to
# $TEST_DIR/stderr (for expect_stderr_matches, expect_one_line_error) and prints the time.
# run_timed NAME LIMIT CMD...: both, in the foreground.
declare -A _timed_pids
start_timed() {
  local name=$1 limit=$2; shift 2
  (
    start=$(date +%s%N) code=0
    timeout -k 5 "$limit" "$@" >"$TEST_DIR/$name.stdout" 2>"$TEST_DIR/$name.stderr" || code=$?
    echo "$code $(( ($(date +%s%N) - start) / 1000000 ))" >"$TEST_DIR/$name.result"
  ) &
  _timed_pids[$name]=$!
}
wait_timed() {
  local name=$1 millis
  wait "${_timed_pids[$name]}" || true
  read -r RUN_EXIT millis <"$TEST_DIR/$name.result"
  RUN_SECONDS=$(printf '%d.%01d' $((millis / 1000)) $((millis % 1000 / 100)))
  cp "$TEST_DIR/$name.stderr" "$TEST_DIR/stderr"
  echo "  $name: exit $RUN_EXIT after ${RUN_SECONDS}s"
  [ "$RUN_EXIT" != 124 ] && [ "$RUN_EXIT" != 137 ] || fail "$name hung: killed by timeout; stderr: $(cat "$TEST_DIR/stderr")"
}
# timed_pid NAME: the pid of the command start_timed NAME runs (the child of its `timeout`),
# to signal it directly.
timed_pid() {
  local timeout_pid
  timeout_pid=$(ps -o pid= --ppid "${_timed_pids[$1]}" | tr -d ' ')
  ps -o pid= --ppid "$timeout_pid" | tr -d ' '
}
run_timed() {
  start_timed "$@"
  wait_timed "$1"
}
# expect_only_whole_files TARGET: every file a stopped restore left in TARGET (files stand at
# TARGET/<their absolute source path>) is whole: equal to its source. Prints how many.
expect_only_whole_files() {
  local target=$1 count=0 file
  [ -d "$target" ] || { echo 0; return; }
  while IFS= read -r -d '' file; do
    cmp -s "$file" "${file#"$target"}" || fail "a half-written file under its real name: $file"
    count=$((count + 1))
  done < <(find "$target" -type f -print0)
  echo "$count"
}
# expect_seconds_under LIMIT: the last wait_timed/run_timed took less than LIMIT seconds.
expect_seconds_under() {
  [ "${RUN_SECONDS%.*}" -lt "$1" ] || fail "took ${RUN_SECONDS}s, want under $1s"
}

# measure NAME CMD...: runs CMD (its output in $TEST_DIR/NAME.out), fails the test on a
# non-zero exit, and records its wall-clock seconds and peak memory (KiB of the largest
# resident set) as the line "NAME SECONDS KIB" in $TEST_DIR/measures.
measure() {
  local name=$1; shift
  python3 -c '
import resource, subprocess, sys, time
log, name, out, cmd = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
start = time.monotonic()
with open(out, "wb") as output:
    code = subprocess.run(cmd, stdout=output, stderr=subprocess.STDOUT).returncode
seconds = time.monotonic() - start
if code != 0:
    sys.exit(code)
kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
open(log, "a").write("%s %.2f %d\n" % (name, seconds, kib))
print("  %s: %.1f s, %d MiB" % (name, seconds, kib // 1024))
' "$TEST_DIR/measures" "$name" "$TEST_DIR/$name.out" "$@" || fail "$name failed: $(tail -n 3 "$TEST_DIR/$name.out")"
}
