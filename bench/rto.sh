#!/usr/bin/env bash
# Full-deployment recovery time: `obkeep drill` from an SFTP DR site (the server homes and
# an Open-Banking-like PostgreSQL database, restored and verified; the database from its
# base backup, the newest recovery point, by starting the restored cluster) against the same
# recovery by the peers, in one run: `restic restore` of the homes from the same site plus
# `pg_restore -j2` of a `pg_dump -Fd` dump (the dump is read from local disk, which favours
# the peers: a real recovery would fetch it from the site first).
# usage: bench/rto.sh [--scale S] [--rows N] [--rtt MS] [--repeat N] [--work DIR] [--obkeep PATH]
#                     [--restore-fs fresh|work]
# --scale 0.5 is the ~1 GB tree of bench/generate_tree.py; --rows 1200000 makes ~1 GB of
# PostgreSQL. --rtt puts the site behind tests/servers/faultproxy.py with that round trip
# (0: no proxy). Prints a Markdown table and writes it (and JSON) to bench/out/rto-<time>.*.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
command_line="bench/rto.sh $*"
scale=0.5 rows=1200000 rtt=0 repeat=1 work=/tmp/obkeep-bench-rto obkeep_bin=$root/build/obkeep restore_fs=fresh
while [ $# -gt 0 ]; do
  case $1 in
    --scale) scale=$2; shift ;;
    --rows) rows=$2; shift ;;
    --rtt) rtt=$2; shift ;;
    --repeat) repeat=$2; shift ;;
    --work) work=$2; shift ;;
    --obkeep) obkeep_bin=$2; shift ;;
    --restore-fs) restore_fs=$2; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
command -v restic >/dev/null && command -v pg_restore >/dev/null && [ -x /usr/bin/time ] && [ -x /usr/sbin/sshd ] ||
  "$root/scripts/setup.sh" --no-build --bench
obkeep_bin=$(realpath "$obkeep_bin")
[ -x "$obkeep_bin" ] || { echo "no obkeep at $obkeep_bin (build it, or give --obkeep)" >&2; exit 2; }
servers=$root/tests/servers
rm -rf "$work" && mkdir -p "$work" && chmod 755 "$work"
work=$(realpath "$work")
export OBKEEP_PASSWORD=bench RESTIC_PASSWORD=bench RESTIC_CACHE_DIR=$work/restic-cache
unset SSH_AUTH_SOCK
results=$work/results.jsonl
: >"$results"

source "$root/bench/restore_fs.sh"
source "$root/bench/ob_postgres.sh"
cleanup() {
  set +e
  [ -f "$work/proxy/faultproxy.pid" ] && bash "$servers/faultproxy.sh" stop "$work/proxy"
  [ -f "$work/sshd/sshd.pid" ] && bash "$servers/sshd.sh" stop "$work/sshd"
  [ -f "$work/pg/port" ] && bash "$servers/postgres.sh" stop "$work/pg"
  release_restore_fs 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The deployment: the generated homes, the AM home naming the database in its datasources.
deployment=$work/deployment
echo "generating the tree (scale $scale)..." >&2
python3 "$root/bench/generate_tree.py" "$deployment" --scale "$scale"
# The generator's filler XML is not datasource XML, which discovery rightly refuses.
rm -f "$deployment"/*/repository/conf/datasources/config*.xml
bash "$servers/postgres.sh" start "$work/pg" "max_wal_size = 4GB" "checkpoint_timeout = 30min"
port=$(cat "$work/pg/port")
export PGPASSWORD=$(cat "$work/pg/password") PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres
psql -X -q -c "CREATE DATABASE ob"
ob_postgres_data ob "$rows"
db_bytes=$(psql -X -At -d ob -c "SELECT pg_database_size('ob')")
tree_bytes=$(du -sb "$deployment" | cut -f1)
cat >"$deployment/wso2-obam-1.5.0/repository/conf/datasources/open-banking-datasources.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<datasources-configuration><datasources><datasource><name>WSO2_OPEN_BANKING_DB</name>
<definition type="RDBMS"><configuration><url>jdbc:postgresql://127.0.0.1:$port/ob</url>
<username>postgres</username><password>$PGPASSWORD</password></configuration></definition>
</datasource></datasources></datasources-configuration>
XML

# The DR site: a private sshd, behind a delaying proxy when --rtt is given.
bash "$servers/sshd.sh" start "$work/sshd"
site_port=$(cat "$work/sshd/port")
if [ "$rtt" != 0 ]; then
  bash "$servers/faultproxy.sh" start "$work/proxy" "$site_port" --max-seconds 604800 --delay-ms "$((rtt / 2))"
  site_port=$(cat "$work/proxy/port")
fi
echo "[127.0.0.1]:$site_port $(cat "$work/sshd/host_key.pub")" >"$work/known_hosts"
cat >"$work/ssh_config" <<C
Host sitebench
  HostName 127.0.0.1
  Port $site_port
  User $(id -un)
Host *
  IdentityFile $work/sshd/client_key
  IdentitiesOnly yes
  UserKnownHostsFile $work/known_hosts
  StrictHostKeyChecking yes
  BatchMode yes
C
export OBKEEP_SSH_CONFIG=$work/ssh_config
mkdir -p "$work/site"
echo bench >"$work/password"

# obkeep: backups into the primary, copied to the site (not timed).
cat >"$work/obkeep.toml" <<TOML
[repository]
url = "$work/primary"
password_file = "$work/password"
[deployment]
homes = ["$deployment/wso2-obkm-1.5.0", "$deployment/wso2-obam-1.5.0"]
[policy.instance]
sites = ["dr1"]
[policy.databases]
sites = ["dr1"]
[[dr_site]]
name = "dr1"
url = "sftp://$(id -un)@127.0.0.1:$site_port$work/site/obkeep"
password_file = "$work/password"
TOML
echo "obkeep: backups and the copy to the site..." >&2
"$obkeep_bin" -r "$work/primary" init >/dev/null
OBKEEP_FROM_PASSWORD=bench "$obkeep_bin" -r "sftp://$(id -un)@127.0.0.1:$site_port$work/site/obkeep" init \
  --copy-params-from "$work/primary" >/dev/null
"$obkeep_bin" backup --config "$work/obkeep.toml" --set instance -q
"$obkeep_bin" backup --config "$work/obkeep.toml" --set databases -q
# The physical recovery point too (a base backup, as an operator keeps for PITR): the drill
# takes the faster path to the newest point, and says which.
"$obkeep_bin" base-backup --config "$work/obkeep.toml" --database WSO2_OPEN_BANKING_DB -q 2>/dev/null
"$obkeep_bin" copy --config "$work/obkeep.toml" --site dr1 -q

# The peers: restic's repository on the same site, a directory-format dump (not timed).
echo "restic backup to the site, pg_dump -Fd..." >&2
restic_site=(restic -r "sftp:sitebench:$work/site/restic" -o "sftp.command=ssh -F $work/ssh_config sitebench -s sftp")
"${restic_site[@]}" init --repository-version 2 >/dev/null 2>&1
(cd "$deployment" && "${restic_site[@]}" backup -q wso2-obkm-1.5.0 wso2-obam-1.5.0 >/dev/null)
pg_dump -Fd -j2 -f "$work/pgdump" ob

# measure ROUND TOOL STEP CMD...: seconds and peak RSS, the page cache dropped first.
measure() {
  local round=$1 tool=$2 step=$3; shift 3
  sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
  if ! /usr/bin/time -o "$work/time.out" -f "%e %M" "$@" >"$work/step.out" 2>"$work/step.err"; then
    echo "$tool $step failed:" >&2; tail -n 5 "$work/step.err" >&2; exit 1
  fi
  local seconds rss; read -r seconds rss <"$work/time.out"
  printf '{"round": %d, "tool": "%s", "step": "%s", "seconds": %s, "peak_rss_kib": %s}\n' \
    "$round" "$tool" "$step" "$seconds" "$rss" >>"$results"
  echo "  round $round: $tool $step ${seconds}s, $((rss / 1024)) MB" >&2
}
rows_of() { psql -X -At -d "$1" -c "SELECT count(*) FROM UK_ACCOUNT_INITIATION"; }
all_rows=0
for table in $(python3 "$root/tests/db/ob_data.py" tables); do
  all_rows=$((all_rows + $(psql -X -At -d ob -c "SELECT count(*) FROM $table")))
done

restore_extra_kib=$((db_bytes / 1024 * 3 / 2))  # the drill's data directory (the cluster and its WAL)
restore_fs_setup "$deployment"
for round in $(seq 1 "$repeat"); do
  echo "round $round..." >&2
  fresh_target
  measure "$round" obkeep drill "$obkeep_bin" drill --config "$work/obkeep.toml" --site dr1 \
    --sandbox "$restore_mnt/target/drill" --report "$work/drill.html" \
    --scratch-postgresql "jdbc:postgresql://127.0.0.1:$port/" --json
  tail -n 1 "$work/step.out" >"$work/drill-$round.json"
  python3 - "$work/drill-$round.json" "$round" "$all_rows" >>"$results" <<'PY'
import json, re, sys
d = json.load(open(sys.argv[1]))
if d["verdict"] != "passed":
    sys.exit("the drill did not pass: %s" % d.get("failures"))
# Every row of the database is back, whichever path the drill took.
database = [s for s in d["steps"] if "WSO2_OPEN_BANKING_DB" in s["name"]][0]
if not re.search(r" %s rows$" % sys.argv[3], database["detail"]):
    sys.exit("the drill's database is incomplete: %s (want %s rows)" % (database["detail"], sys.argv[3]))
print(json.dumps({"round": int(sys.argv[2]), "tool": "obkeep", "step": "measured_rto", "seconds": d["measured_rto_s"],
                  "peak_rss_kib": 0, "steps": [[s["name"], s["duration_s"]] for s in d["steps"]]}))
PY

  fresh_target
  measure "$round" restic restore "${restic_site[@]}" restore latest --target "$restore_mnt/target"
  [ "$(du -sb "$restore_mnt/target" | cut -f1)" -ge "$((tree_bytes * 99 / 100))" ] ||
    { echo "restic restored less than the tree" >&2; exit 1; }
  psql -X -q -c "DROP DATABASE IF EXISTS restored_pg" -c "CREATE DATABASE restored_pg"
  measure "$round" pg_restore restore pg_restore -j2 -d restored_pg "$work/pgdump"
  [ "$(rows_of restored_pg)" = "$(rows_of ob)" ] || { echo "pg_restore's database is incomplete" >&2; exit 1; }
done

mkdir -p "$root/bench/out"
out=$root/bench/out/rto-$(date -u +%Y%m%dT%H%M%SZ)
python3 - "$results" "$out" "$command_line" "$tree_bytes" "$db_bytes" "$rtt" <<'PY'
import json, statistics, sys
results, out, command, tree_bytes, db_bytes, rtt = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
rows = [json.loads(line) for line in open(results)]
def median(tool, step):
    return statistics.median(r["seconds"] for r in rows if r["tool"] == tool and r["step"] == step)
drill, rto = median("obkeep", "drill"), median("obkeep", "measured_rto")
restic, pg = median("restic", "restore"), median("pg_restore", "restore")
peers = restic + pg
ratio = drill / peers
lines = ["# Full-deployment recovery time", "", "`%s`: homes %.0f MB, PostgreSQL database %.0f MB, SFTP DR site at RTT %s ms; "
         "medians of %d rounds, page cache dropped before each step." % (command, tree_bytes / 1e6, db_bytes / 1e6, rtt,
                                                                        len({r['round'] for r in rows})), "",
         "| recovery | seconds |", "|---|---|",
         "| obkeep drill (homes + database, restored and verified), wall time | %.1f |" % drill,
         "| obkeep drill, its measured RTO | %.1f |" % rto,
         "| restic restore of the homes | %.1f |" % restic,
         "| pg_restore -j2 of the pg_dump -Fd dump | %.1f |" % pg,
         "| peers' sum | %.1f |" % peers, "",
         "obkeep / peers: **%.2f** (target: at most 0.50) — %s" % (ratio, "PASS" if ratio <= 0.5 else "FAIL"), "",
         "The drill's steps (last round):", ""]
last = [r for r in rows if r["step"] == "measured_rto"][-1]
lines += ["- %s: %.1f s" % (name, seconds) for name, seconds in last["steps"]]
text = "\n".join(lines) + "\n"
print(text)
open(out + ".md", "w").write(text)
json.dump(rows, open(out + ".json", "w"), indent=1)
PY
