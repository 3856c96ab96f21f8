# Helpers for the fault tests (sourced after lib.sh): run a command under a fault, judge
# how it ended and what it left, and keep a table of the cells for the log.

_cells=()

# fault_fixture: what the fault tests work on. $src: 40 MB of incompressible "bundles" (three
# packs' worth, so a fault can strike a pack save midway) and 200 small configs; $repo and a
# related DR site $dr; $config, a deployment whose one database is dumped by a hook (no
# server needed, and the dump is a real stream) from $TEST_DIR/vendor.dmp.
fault_fixture() {
  src=$TEST_DIR/src repo=$TEST_DIR/repo dr=$TEST_DIR/dr config=$TEST_DIR/obkeep.toml
  mkdir -p "$src/lib" "$src/conf"
  for i in $(seq 1 40); do head -c 1000000 /dev/urandom >"$src/lib/bundle$i.jar"; done
  for i in $(seq 1 200); do printf '<config id="%d"/>\n' "$i" >"$src/conf/file$i.xml"; done
  obkeep -r "$repo" init >/dev/null
  obkeep -r "$dr" init --copy-params-from "$repo" >/dev/null
  export OBKEEP_FROM_PASSWORD=$OBKEEP_PASSWORD
  local home=$TEST_DIR/wso2-obam-1.5.0
  write_home "$home" "$(datasource WSO2_OB_DB "jdbc:oracle:thin:@127.0.0.1:1521/ORCLPDB1" OBADMIN secret)"
  head -c 2000000 /dev/urandom | base64 >"$TEST_DIR/vendor.dmp"
  cat >"$config" <<TOML
[repository]
url = "$repo"
[deployment]
homes = ["$home"]
[[database]]
name = "WSO2_OB_DB"
backup_command = "cat '$TEST_DIR/vendor.dmp'"
restore_command = "cat >'$TEST_DIR/restored.dmp'"
[policy.artifacts]
rpo = "1h"
TOML
}

# run_with_fault RULE LIMIT_S CMD...: runs CMD with OBKEEP_TEST_FAULTS=RULE under a time
# limit (killed after it: a hang is exit 124 or 137); sets cell_exit and cell_ms.
run_with_fault() {
  local rule=$1 limit=$2; shift 2
  [ "$1" = obkeep ] && set -- "$OBKEEP_BIN" "${@:2}"  # timeout runs programs, not functions
  local start=${EPOCHREALTIME/./}
  cell_exit=0
  OBKEEP_TEST_FAULTS=$rule timeout -k 5 "$limit" "$@" >"$TEST_DIR/stdout" 2>"$TEST_DIR/stderr" || cell_exit=$?
  cell_ms=$(((${EPOCHREALTIME/./} - start) / 1000))
}

# expect_clean_failure WHAT EXIT CAUSE: the last run ended by itself within 30 s with EXIT
# and one line on stderr matching CAUSE.
expect_clean_failure() {
  local what=$1 want=$2 cause=$3
  case $cell_exit in
    124 | 137) fail "$what: hung (killed after its time limit); stderr: $(cat "$TEST_DIR/stderr")" ;;
  esac
  [ "$cell_exit" = "$want" ] || fail "$what: exit $cell_exit, want $want; stderr: $(cat "$TEST_DIR/stderr")"
  [ "$cell_ms" -lt 30000 ] || fail "$what: took $cell_ms ms"
  grep -Eq -- "$cause" "$TEST_DIR/stderr" || fail "$what: stderr does not name the cause /$cause/: $(cat "$TEST_DIR/stderr")"
  # check and drill are reports ($report=1): check names the unreadable object and then each
  # file it affects; drill logs each step it took.
  local lines; lines=$(wc -l <"$TEST_DIR/stderr")
  [ "$lines" = 1 ] || [ "${report:-0}" = 1 ] || fail "$what: want a one-line error, got $lines lines: $(cat "$TEST_DIR/stderr")"
}

# expect_repository_sound WHAT DIR [URL]: no lock and no temporary left in the repository
# whose files are in DIR, and check of it (at URL when given: an SFTP site) passes.
expect_repository_sound() {
  local what=$1 repository=$2 url=${3:-$2}
  [ -z "$(ls -A "$repository/locks")" ] || fail "$what: a lock was left behind: $(ls "$repository/locks")"
  [ -z "$(find "$repository" -name '.tmp-*')" ] || fail "$what: temporaries left: $(find "$repository" -name '.tmp-*')"
  obkeep -r "$url" check >/dev/null 2>"$TEST_DIR/check.err" || fail "$what: check fails afterwards: $(cat "$TEST_DIR/check.err")"
}

# signal_during SIGNAL WHEN RULE CMD...: starts CMD (with the fault RULE, or none for "-"),
# waits until WHEN says it is under way, sends SIGNAL and measures until it exits; sets
# cell_exit and cell_ms (from the signal).
signal_during() {
  local signal=$1 when=$2 rule=$3; shift 3
  [ "$rule" = - ] && rule=
  [ "$1" = obkeep ] && set -- "$OBKEEP_BIN" "${@:2}"  # the signal must reach obkeep, not a subshell
  OBKEEP_TEST_FAULTS=$rule "$@" >"$TEST_DIR/stdout" 2>"$TEST_DIR/stderr" &
  local pid=$! i
  for ((i = 0; i < 300; i++)); do eval "$when" && break; sleep 0.05; done
  local start=${EPOCHREALTIME/./}
  kill -s "$signal" "$pid" 2>/dev/null || true
  for ((i = 0; i < 300; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  if kill -0 "$pid" 2>/dev/null; then
    kill -9 "$pid"
    fail "$* did not exit within 15 s of SIG$signal"
  fi
  cell_exit=0
  wait "$pid" || cell_exit=$?
  cell_ms=$(((${EPOCHREALTIME/./} - start) / 1000))
}
locked() { [ -n "$(ls -A "$1/locks" 2>/dev/null)" ]; }

# record_cell OPERATION FAULT OUTCOME / print_cells: the matrix as a table.
record_cell() { _cells+=("| $1 | $2 | $3 |"); }
print_cells() {
  echo "| operation | fault | outcome |"
  echo "|---|---|---|"
  printf '%s\n' "${_cells[@]}"
}
