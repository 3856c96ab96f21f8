#!/usr/bin/env bash
# Remote-site benchmark: obkeep against restic (backup, full restore) and `obkeep copy` against
# `rclone sync` of a restic repository, over SFTP and S3 at several round-trip times, in one run.
# usage: bench/remote.sh [--scale S] [--rtts 0,20,80] [--backends sftp,s3] [--tools obkeep,restic,rclone,wal]
#                        [--work DIR] [--obkeep PATH] [--json PATH] [--restore-fs fresh|work] [--step-timeout S]
#                        [--wal-segments N] [--archive-entries N] [--proxy c|python] [--s3-store swift|radosgw]
# The wal tool: N synthetic 16 MiB WAL segments pushed one after another (archive_command),
# then fetched one after another as a recovery asks for them (restore_command), without and
# with --prefetch 8.
# The archive tool (not in the default tools): a local repository of N small archived WAL files
# (default 2000) copied to the site; there `archive-ls` and `prune` read the whole archive,
# first entry by entry, then (after the first prune wrote the archive catalog) from the catalog.
# Latency: each server (a private sshd, a private Swift with its S3 API over https) sits behind
# a proxy that holds every chunk RTT/2 in each direction: --proxy c is bench/latency_proxy.cpp
# (build/latency_proxy; the default when built), --proxy python is tests/servers/faultproxy.py
# (slower: it queues at most 4 MiB a direction, 100 MB/s a connection at RTT 80, and takes CPU
# the tools need). Prints a Markdown table per backend with ratios and writes it (and raw JSON,
# which names the proxy) to bench/out/remote-<time>.{md,json}.
# Over SFTP, after each obkeep restore, the same bytes streamed by plain ssh sessions (as many
# as obkeep opens at that round trip): the transport's own bound, in the same run.
# --s3-store: the S3 site is a private Swift with its s3api (Python, one process; https), the
# default, or a private Ceph RADOS Gateway (C++, threaded; plain http) on a memstore OSD of
# 2 GiB, emptied after each round (tests/servers/radosgw.sh): whether a step is bound by the
# store shows as both tools speeding up on the second.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
command_line="bench/remote.sh $*"
# Scale 0.09 is ~221 MB in ~2,100 files; scale 0.5 is the ~1 GB tree (1.10 GB, ~11,800 files).
scale=0.09 rtts=0,20,80 backends=sftp,s3 tools=obkeep,restic,rclone,wal work=/tmp/obkeep-bench-remote wal_segments=16
archive_entries=2000
obkeep_bin=$root/build/obkeep json_copy= restore_fs=fresh step_timeout=3600 proxy= s3_store=swift
while [ $# -gt 0 ]; do
  case $1 in
    --scale) scale=$2; shift ;;
    --rtts) rtts=$2; shift ;;
    --backends) backends=$2; shift ;;
    --tools) tools=$2; shift ;;
    --work) work=$2; shift ;;
    --obkeep) obkeep_bin=$2; shift ;;
    --json) json_copy=$2; shift ;;
    --restore-fs) restore_fs=$2; shift ;;
    --step-timeout) step_timeout=$2; shift ;;
    --wal-segments) wal_segments=$2; shift ;;
    --archive-entries) archive_entries=$2; shift ;;
    --proxy) proxy=$2; shift ;;
    --s3-store) s3_store=$2; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
command -v restic >/dev/null && command -v rclone >/dev/null && [ -x /usr/bin/time ] && [ -x /usr/sbin/sshd ] &&
  command -v swift-proxy-server >/dev/null || "$root/scripts/setup.sh" --no-build --bench
obkeep_bin=$(realpath "$obkeep_bin")
[ -x "$obkeep_bin" ] || { echo "no obkeep at $obkeep_bin (build it, or give --obkeep)" >&2; exit 2; }
has_tool() { [[ ",$tools," == *",$1,"* ]]; }
# The latency proxy: tests/servers/faultproxy.sh runs the one FAULTPROXY_IMPL names.
latency_proxy=$root/build/latency_proxy
[ -n "$proxy" ] || { [ -x "$latency_proxy" ] && proxy=c || proxy=python; }
case $proxy in
  c) [ -x "$latency_proxy" ] || { echo "no latency proxy at $latency_proxy (cmake --build build --target latency_proxy)" >&2; exit 2; }
     export FAULTPROXY_IMPL=c FAULTPROXY_BIN=$latency_proxy
     echo "latency proxy: $latency_proxy" >&2 ;;
  python) export FAULTPROXY_IMPL=python
     echo "latency proxy: tests/servers/faultproxy.py$([ -x "$latency_proxy" ] || echo " (cmake --build build --target latency_proxy for the faster C++ one)")" >&2 ;;
  *) echo "--proxy is c or python, not $proxy" >&2; exit 2 ;;
esac
case $s3_store in swift | radosgw) ;; *) echo "--s3-store is swift or radosgw, not $s3_store" >&2; exit 2 ;; esac
IFS=, read -r -a rtt_list <<<"$rtts"
IFS=, read -r -a backend_list <<<"$backends"

servers=$root/tests/servers
rm -rf "$work" && mkdir -p "$work"
work=$(realpath "$work")
data=$work/data
echo "generating tree (scale $scale)..." >&2
python3 "$root/bench/generate_tree.py" "$data" --scale "$scale"

export OBKEEP_PASSWORD=bench RESTIC_PASSWORD=bench RESTIC_CACHE_DIR=$work/restic-cache
export AWS_ACCESS_KEY_ID=test:tester AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1
unset AWS_DEFAULT_REGION SSH_AUTH_SOCK
results=$work/results.jsonl
: >"$results"

# Everything started here is stopped on exit, on the error path too.
source "$root/bench/restore_fs.sh"
cleanup() {
  set +e
  for backend in sftp s3 ssh; do [ -f "$work/proxy-$backend/faultproxy.pid" ] && bash "$servers/faultproxy.sh" stop "$work/proxy-$backend"; done
  [ -f "$work/sshd/sshd.pid" ] && bash "$servers/sshd.sh" stop "$work/sshd"
  [ -d "$work/s3/swift" ] && bash "$servers/s3.sh" stop "$work/s3"
  [ -d "$work/s3/ceph" ] && bash "$servers/radosgw.sh" stop "$work/s3"
  release_restore_fs 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# WAL-like segments: each 8 KiB page a quarter random, the rest zeros (WAL compresses too).
if has_tool wal; then
  python3 - "$work/wal" "$wal_segments" <<'PY'
import os, sys
folder, count = sys.argv[1], int(sys.argv[2])
os.makedirs(folder)
for i in range(1, count + 1):
    with open(os.path.join(folder, "00000001%08X%08X" % (i // 256, i % 256)), "wb") as f:
        for _ in range(2048):
            f.write(os.urandom(2048) + bytes(6144))
PY
fi

# Local repositories, the source of the copy steps (not timed).
echo "local repositories for the copy steps..." >&2
if has_tool archive; then
  "$obkeep_bin" -r "$work/local-archive" init >/dev/null
  "$obkeep_bin" -r "$work/local-archive" -q key add --generate-password-file "$work/archive-key"
  mkdir -p "$work/archive-files"
  for i in $(seq 1 "$archive_entries"); do
    name=$(printf '000000010000000000%06X' "$i")
    head -c 4096 /dev/urandom >"$work/archive-files/$name"
    env -u OBKEEP_PASSWORD "$obkeep_bin" -r "$work/local-archive" --password-file "$work/archive-key" -q wal-push --stanza b "$work/archive-files/$name"
  done
  rm -rf "$work/archive-files"
fi
"$obkeep_bin" -r "$work/local-obkeep" init >/dev/null
"$obkeep_bin" -r "$work/local-obkeep" backup -q "$data" >/dev/null
restic -r "$work/local-restic" init --repository-version 2 >/dev/null 2>&1
restic -r "$work/local-restic" backup -q "$data" >/dev/null

# The servers, each behind its own fault proxy; the delay is set per round.
proxy_port=()
start_proxy() { # BACKEND TARGET_PORT
  bash "$servers/faultproxy.sh" start "$work/proxy-$1" "$2" --max-seconds 604800
}
uses_backend() { [[ " ${backend_list[*]} " == *" $1 "* ]]; }
if uses_backend sftp || uses_backend ssh; then
  bash "$servers/sshd.sh" start "$work/sshd"
  : >"$work/known_hosts" >"$work/ssh_config"
  # One proxy per backend (its own byte counts and delay), both in front of the same sshd.
  for backend in sftp ssh; do
    uses_backend $backend || continue
    start_proxy $backend "$(cat "$work/sshd/port")"
    port=$(cat "$work/proxy-$backend/port")
    [ $backend = sftp ] && sftp_port=$port || ssh_port=$port
    echo "[127.0.0.1]:$port $(cat "$work/sshd/host_key.pub")" >>"$work/known_hosts"
    # A client config for the proxy's address that obkeep (`ssh -F $OBKEEP_SSH_CONFIG`),
    # restic's `ssh` and a plain `ssh ${backend}bench` all accept.
    printf 'Host %sbench\n  HostName 127.0.0.1\n  Port %s\n  User %s\n' $backend "$port" "$(id -un)" >>"$work/ssh_config"
  done
  cat >>"$work/ssh_config" <<C
Host *
  IdentityFile $work/sshd/client_key
  IdentitiesOnly yes
  UserKnownHostsFile $work/known_hosts
  StrictHostKeyChecking yes
  BatchMode yes
C
  export OBKEEP_SSH_CONFIG=$work/ssh_config OBKEEP_REMOTE_COMMAND=$obkeep_bin
  for backend in sftp ssh; do
    uses_backend $backend || continue
    ssh -F "$work/ssh_config" ${backend}bench true || { echo "no ssh login through the $backend proxy" >&2; exit 1; }
  done
  mkdir -p "$work/sftp-site"
fi
s3_scheme=https
if [[ " ${backend_list[*]} " == *" s3 "* ]]; then
  mkdir -p "$work/s3"
  if [ "$s3_store" = radosgw ]; then
    # Room for a round's two repositories (the backup's and the copy's) four times over.
    RADOSGW_MEMSTORE_BYTES=$(($(du -sb "$data" | cut -f1) * 4 > 2147483648 ? $(du -sb "$data" | cut -f1) * 4 : 2147483648)) \
      bash "$servers/radosgw.sh" start "$work/s3"
    export AWS_ACCESS_KEY_ID=$(cat "$work/s3/access_key") AWS_SECRET_ACCESS_KEY=$(cat "$work/s3/secret_key")
    s3_scheme=http
  else
    # https for every tool: Swift's s3api refuses the aws-chunked uploads restic sends over plain
    # http, so the proxy forwards TLS as plain TCP (no per-request counts, bytes still counted).
    bash "$servers/s3.sh" start "$work/s3"
    export AWS_CA_BUNDLE=$work/s3/cert.pem
  fi
  start_proxy s3 "$(cat "$work/s3/port")"
  s3_port=$(cat "$work/proxy-s3/port")
fi
cat >"$work/rclone.conf" <<C
[site-sftp]
type = sftp
host = 127.0.0.1
port = ${sftp_port:-0}
user = $(id -un)
key_file = $work/sshd/client_key
known_hosts_file = $work/known_hosts

[site-s3]
type = s3
provider = Other
endpoint = $s3_scheme://127.0.0.1:${s3_port:-0}
access_key_id = $AWS_ACCESS_KEY_ID
secret_access_key = $AWS_SECRET_ACCESS_KEY
region = us-east-1
force_path_style = true
C

# Where each tool finds the site: URL BACKEND TOOL NAME (NAME is a fresh repository).
site_url() {
  case $1:$2 in
    sftp:obkeep) echo "sftp://$(id -un)@127.0.0.1:$sftp_port$work/sftp-site/$3" ;;
    sftp:restic) echo "sftp:sftpbench:$work/sftp-site/$3" ;;
    sftp:rclone) echo "site-sftp:$work/sftp-site/$3" ;;
    ssh:obkeep) echo "ssh://$(id -un)@127.0.0.1:$ssh_port$work/sftp-site/$3" ;;
    ssh:restic) echo "sftp:sshbench:$work/sftp-site/$3" ;;
    s3:obkeep) echo "$([ $s3_scheme = http ] && echo s3+http || echo s3)://127.0.0.1:$s3_port/bench/$3" ;;
    s3:restic) echo "s3:$s3_scheme://127.0.0.1:$s3_port/bench/$3" ;;
    s3:rclone) echo "site-s3:bench/$3" ;;
  esac
}
restic_options() { # BACKEND: the options that reach the site
  case $1 in
    sftp) printf '%q ' -o "sftp.command=ssh -F $work/ssh_config sftpbench -s sftp" ;;
    ssh) printf '%q ' -o "sftp.command=ssh -F $work/ssh_config sshbench -s sftp" ;;
    s3) [ $s3_scheme = http ] || printf '%q ' --cacert "$work/s3/cert.pem" ;;
  esac
}
# rclone takes the certificate as a flag and fails on the AWS SDK's AWS_CA_BUNDLE next to it.
rclone_command="env -u AWS_CA_BUNDLE rclone --config $(printf %q "$work/rclone.conf")"
[ $s3_scheme = http ] || rclone_command+=" --ca-cert $(printf %q "$work/s3/cert.pem")"

drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true; }

restore_fs_setup "$data"

proxy_counts() { # BACKEND: "bytes_up bytes_down" through its proxy so far
  bash "$servers/faultproxy.sh" ctl "$work/proxy-$1" stats |
    python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["bytes_up"], s["bytes_down"])'
}

# measure BACKEND RTT TOOL STEP SCRIPT: runs SCRIPT (bash) with the page cache dropped; records
# seconds, peak RSS and the bytes through the proxy, or "failed" with stderr's last line. A
# failed step does not end the run. CHECK (bash, optional) runs after a success and fails it.
measure() {
  local backend=$1 rtt=$2 tool=$3 step=$4 script=$5 before after status=ok error= seconds=0 rss=0
  drop_caches
  before=$(proxy_counts "$backend")
  if /usr/bin/time -o "$work/time.out" -f "%e %M" timeout -k 30 "$step_timeout" bash -c "$script" \
    >"$work/step.out" 2>"$work/step.err"; then
    read -r seconds rss <"$work/time.out"
    if [ -n "${CHECK:-}" ] && ! bash -c "$CHECK" >>"$work/step.out" 2>>"$work/step.err"; then
      status=failed error="check: $(tail -n 1 "$work/step.err")"
    fi
  else
    local code=$?
    # The last line that names an error (restic ends with the repository's URL), else the last.
    grep -v '^Command exited with non-zero status' "$work/step.err" >"$work/step.lines" || true
    error=$(grep -iE 'fatal|error|fail' "$work/step.lines" | tail -n 1 || true)
    [ -n "$error" ] || error=$(tail -n 1 "$work/step.lines")
    status=failed
    [ "$code" = 124 ] && error="timed out after ${step_timeout}s"
    [ -n "$error" ] || error="exit $code"
  fi
  after=$(proxy_counts "$backend")
  python3 - "$backend" "$rtt" "$tool" "$step" "$status" "$error" "$seconds" "$rss" $before $after >>"$results" <<'PY'
import json, sys
backend, rtt, tool, step, status, error, seconds, rss, up0, down0, up1, down1 = sys.argv[1:13]
print(json.dumps({"backend": backend, "rtt_ms": int(rtt), "tool": tool, "step": step, "status": status,
                  "error": error, "seconds": float(seconds), "peak_rss_kib": int(rss),
                  "bytes_up": int(up1) - int(up0), "bytes_down": int(down1) - int(down0)}))
PY
  if [ "$status" = ok ]; then
    echo "  $backend RTT $rtt: $tool $step ${seconds}s, $((rss / 1024)) MB, $(( ($(echo "$after" | cut -d' ' -f1) - $(echo "$before" | cut -d' ' -f1)) / 1000000 )) MB up" >&2
  else
    echo "  $backend RTT $rtt: $tool $step FAILED: $error" >&2
  fi
}

q() { printf '%q' "$1"; }
verify_restore="diff -r $(q "$data") $(q "$restore_mnt/target$data") >/dev/null || { echo 'restored tree differs' >&2; exit 1; }"

# ssh_alone RTT: the ssh transport alone, the bound of a restore's transfer over SFTP: the
# bytes the last obkeep restore downloaded, fetched with OpenSSH's own `sftp` client (`get`
# of a sparse file into /dev/null, through sshd's internal-sftp as obkeep's sessions are: a
# remote command would run the user's shell and its startup files, whose cost is no part of
# the transport) by as many sessions as obkeep opens at this round trip (4 near, up to 16
# far; ssh_pool.hpp), on masters of at most ten sessions each (sshd's MaxSessions), as
# obkeep's. The masters' handshakes are not timed. OpenSSH's client gives each session a
# fixed 2 MiB window, so a session moves at most 2 MiB a round trip.
ssh_alone() {
  local rtt=$1 bytes sessions masters m
  bytes=$(tail -n 1 "$results" | python3 -c 'import json,sys; x=json.load(sys.stdin); print(x["bytes_down"] if x["status"] == "ok" else 0)')
  [ "$bytes" -gt 0 ] || return 0
  sessions=$(( (rtt + 2) / 5 )); [ $sessions -lt 4 ] && sessions=4; [ $sessions -gt 16 ] && sessions=16
  masters=$(( (sessions + 9) / 10 ))
  truncate -s $((bytes / sessions)) "$work/ssh-alone.bytes"
  local opts="-F $(q "$work/ssh_config")"
  for m in $(seq $masters); do
    ssh $opts -o ControlPath="$work/ssh-alone-$m.sock" -o ControlMaster=yes -o ControlPersist=yes -fN sftpbench
  done
  measure sftp "$rtt" ssh stream "set -e; pids=; for i in \$(seq $sessions); do
      sftp -q $opts -o ControlPath=$(q "$work")/ssh-alone-\$(( (i - 1) % $masters + 1 )).sock \
        sftpbench:$(q "$work/ssh-alone.bytes") /dev/null >/dev/null & pids+=\" \$!\"; done
    for pid in \$pids; do wait \$pid; done"
  for m in $(seq $masters); do
    ssh $opts -o ControlPath="$work/ssh-alone-$m.sock" -O exit sftpbench 2>/dev/null || true
  done
  rm -f "$work/ssh-alone.bytes"
}

round() { # BACKEND RTT
  local backend=$1 rtt=$2 url
  local ob=$(q "$obkeep_bin") ropts; ropts=$(restic_options "$backend")
  if has_tool obkeep; then
    url=$(site_url "$backend" obkeep "obkeep-backup-rtt$rtt")
    measure "$backend" "$rtt" obkeep backup "set -e; $ob -r $(q "$url") init >/dev/null; $ob -r $(q "$url") backup -q $(q "$data")"
    fresh_target
    CHECK=$verify_restore measure "$backend" "$rtt" obkeep restore "$ob -r $(q "$url") restore latest --target $(q "$restore_mnt/target")"
    [ "$backend" = sftp ] && ssh_alone "$rtt"
    url=$(site_url "$backend" obkeep "obkeep-copy-rtt$rtt")
    # One command makes the site (related to the source) and fills it, as rclone sync does.
    measure "$backend" "$rtt" obkeep copy "$ob -r $(q "$url") copy --init --from-repo $(q "$work/local-obkeep") >/dev/null"
  fi
  if has_tool restic; then
    # A fresh cache for every step: the restore is measured as on a recovery machine.
    url=$(site_url "$backend" restic "restic-backup-rtt$rtt")
    rm -rf "$RESTIC_CACHE_DIR"
    measure "$backend" "$rtt" restic backup "set -e; restic $ropts -r $(q "$url") init --repository-version 2 >/dev/null
      restic $ropts -r $(q "$url") backup -q $(q "$data")"
    rm -rf "$RESTIC_CACHE_DIR"
    fresh_target
    CHECK=$verify_restore measure "$backend" "$rtt" restic restore "restic $ropts -r $(q "$url") restore latest --target $(q "$restore_mnt/target")"
  fi
  if has_tool wal; then
    # A key for programs (key add --generate-password-file), as archive_command should use.
    url=$(site_url "$backend" obkeep "obkeep-wal-rtt$rtt")
    local key=$work/wal-key-$backend-$rtt wal_ob
    "$obkeep_bin" -r "$url" init >/dev/null && "$obkeep_bin" -r "$url" -q key add --generate-password-file "$key"
    wal_ob="env -u OBKEEP_PASSWORD $ob -r $(q "$url") --password-file $(q "$key") -q"
    local names; names=$(ls "$work/wal" | tr "\n" " ")
    measure "$backend" "$rtt" obkeep wal-push "set -e; for f in $(q "$work/wal")/*; do $wal_ob wal-push --stanza b \$f; done"
    mkdir -p "$work/wal-restore"
    measure "$backend" "$rtt" obkeep wal-fetch "set -e; for n in $names; do $wal_ob wal-fetch --stanza b \$n $(q "$work/wal-restore")/RECOVERYXLOG; done"
    rm -rf "$work/wal-spool"
    measure "$backend" "$rtt" obkeep wal-fetch-prefetch "set -e; for n in $names; do $wal_ob wal-fetch --stanza b --prefetch 8 --spool $(q "$work/wal-spool") \$n $(q "$work/wal-restore")/RECOVERYXLOG; done"
    sleep 4  # the prefetcher's linger, before the next step's byte counts
  fi
  if has_tool archive; then
    url=$(site_url "$backend" obkeep "obkeep-archive-rtt$rtt")
    local site_ob="$ob -r $(q "$url")"
    measure "$backend" "$rtt" obkeep archive-copy "$site_ob copy --init --from-repo $(q "$work/local-archive") >/dev/null"
    measure "$backend" "$rtt" obkeep archive-ls "$site_ob archive-ls --kind wal >/dev/null"
    measure "$backend" "$rtt" obkeep archive-prune "$site_ob prune >/dev/null"
    measure "$backend" "$rtt" obkeep archive-ls-catalog "$site_ob archive-ls --kind wal >/dev/null"
    measure "$backend" "$rtt" obkeep archive-prune-catalog "$site_ob prune >/dev/null"
  fi
  if has_tool rclone && [ "$backend" != ssh ]; then
    url=$(site_url "$backend" rclone "rclone-sync-rtt$rtt")
    measure "$backend" "$rtt" rclone sync "$rclone_command sync $(q "$work/local-restic") $(q "$url")"
  fi
  release_restore_fs
  # The SFTP site is this machine's disk: free it (Swift's objects stay, each step has its own
  # prefix; the RADOS Gateway's memstore, sized for a round: emptied, the bucket kept).
  [ "$backend" = sftp ] || [ "$backend" = ssh ] && rm -rf "$work/sftp-site"/* || true
  if [ "$backend" = s3 ] && [ "$s3_store" = radosgw ]; then
    timeout 300 bash -c "$rclone_command delete site-s3:bench" >/dev/null 2>&1 || echo "could not empty the gateway's bucket" >&2
  fi
}

for rtt in "${rtt_list[@]}"; do
  for backend in "${backend_list[@]}"; do
    # Half the round trip each way; new chunks (and so new connections) get the new delay.
    bash "$servers/faultproxy.sh" ctl "$work/proxy-$backend" delay "$((rtt / 2))" >/dev/null
    echo "$backend at RTT $rtt ms:" >&2
    round "$backend" "$rtt"
  done
done

mkdir -p "$root/bench/out"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo "?")
ARCHIVE_ENTRIES=$archive_entries python3 - "$results" "$data" "$root/bench/out/remote-$stamp" "$scale" "$obkeep_bin" "$commit" "$restore_fs" "$command_line" "$proxy" "$s3_store" <<'PY'
import json, os, subprocess, sys
results, data, out, scale, obkeep_bin, commit, restore_fs, command_line, proxy, s3_store = sys.argv[1:11]
s3_name = {"swift": "S3 (https) to a private Swift (s3api, one Python process)",
           "radosgw": "S3 (http) to a private Ceph RADOS Gateway (memstore OSD)"}[s3_store]
proxy_name = {"c": "bench/latency_proxy.cpp (C++, epoll)", "python": "tests/servers/faultproxy.py"}[proxy]
rows = [json.loads(line) for line in open(results)]
r = {(x["backend"], x["rtt_ms"], x["tool"], x["step"]): x for x in rows}
files = sum(len(f) for _, _, f in os.walk(data))
size = sum(os.path.getsize(os.path.join(d, x)) for d, _, fs in os.walk(data) for x in fs)
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
def version(cmd):
    try: return subprocess.run(cmd, capture_output=True, text=True).stdout.splitlines()[0]
    except Exception: return "?"
ssh_version = subprocess.run(["ssh", "-V"], capture_output=True, text=True).stderr.strip().split(",")[0]
lines = ["# Remote-site benchmark", "", "`%s`" % command_line.strip(), "",
         "Data: %d files, %.2f GB (generated, scale %s). Machine: %d cores, %s." % (files, size / 1e9, scale, os.cpu_count(), cpu),
         "Versions: %s (%s, commit %s); %s; %s; %s." % (version([obkeep_bin, "version"]), obkeep_bin, commit,
                                                    version(["restic", "version"]), version(["rclone", "version"]), ssh_version),
         "Latency: %s holds each direction RTT/2; SFTP to a private sshd, %s." % (proxy_name, s3_name),
         "Restores into: %s." % ("a new ext4 file system on a loop device, made before each restore" if restore_fs == "fresh"
                                 else "the working file system")]
def cell(key, field="seconds"):
    x = r.get(key)
    if x is None: return None, "-"
    if x["status"] != "ok":
        return None, "failed: " + (x["error"] or "?").replace("|", "\\|")[:120]
    v = x[field] / 1e6 if field == "bytes_up" else x[field]
    return v, "%.2f" % v
def ratio(a, b):
    return "%.2f" % (b / a) if a and b is not None else "-"
checks = []
for backend in dict.fromkeys(x["backend"] for x in rows):
    rtts = sorted({x["rtt_ms"] for x in rows if x["backend"] == backend})
    title = {"sftp": "SFTP", "s3": "S3", "ssh": "SSH: obkeep serve against restic over SFTP, the same sshd"}[backend]
    lines += ["", "## %s" % title, "",
              "| step | RTT (ms) | obkeep | peer | peer/obkeep |", "|---|---|---|---|---|"]
    steps = [("init + backup (s)", "backup", "restic", "backup", "seconds"),
             ("full restore (s)", "restore", "restic", "restore", "seconds"),
             ("copy to the site (s)", "copy", "rclone sync", "sync", "seconds"),
             ("copy to the site (MB sent)", "copy", "rclone sync", "sync", "bytes_up")]
    for label, ostep, peer, pstep, field in steps:
        tool = peer.split()[0]
        for rtt in rtts:
            o, otext = cell((backend, rtt, "obkeep", ostep), field)
            p, ptext = cell((backend, rtt, tool, pstep), field)
            if otext == "-" and ptext == "-": continue
            peer_text = ptext if ptext == "-" else "%s %s" % (peer, ptext)
            lines.append("| %s | %d | %s | %s | %s |" % (label, rtt, otext, peer_text, ratio(o, p)))
            if rtt >= 20 and field == "seconds" and o and p is not None:
                checks.append(("%s: %s at RTT %d at least 2x faster than %s (%.2f)" % (backend, ostep, rtt, peer, p / o),
                               p >= 2 * o))
    segments = len(os.listdir(os.path.join(os.path.dirname(data), "wal"))) if os.path.isdir(os.path.join(os.path.dirname(data), "wal")) else 0
    for rtt in rtts:
        o, otext = cell((backend, rtt, "obkeep", "wal-push"))
        if otext != "-":
            lines.append("| WAL push, %d segments one by one (s) | %d | %s | - | - |" % (segments, rtt, otext))
    for rtt in rtts:
        o, otext = cell((backend, rtt, "obkeep", "wal-fetch-prefetch"))
        p, ptext = cell((backend, rtt, "obkeep", "wal-fetch"))
        if otext != "-" or ptext != "-":
            lines.append("| WAL fetch, %d segments one by one, --prefetch 8 (s) | %d | %s | without prefetch %s | %s |" % (
                segments, rtt, otext, ptext, ratio(o, p)))
    for rtt in rtts:
        o, otext = cell((backend, rtt, "obkeep", "archive-copy"))
        if otext != "-":
            lines.append("| copy --init of an archive of %s entries to a new site (s) | %d | %s | - | - |" % (
                os.environ.get("ARCHIVE_ENTRIES", "?"), rtt, otext))
        for label, with_catalog, without in (("archive-ls", "archive-ls-catalog", "archive-ls"),
                                              ("prune", "archive-prune-catalog", "archive-prune")):
            o, otext = cell((backend, rtt, "obkeep", with_catalog))
            p, ptext = cell((backend, rtt, "obkeep", without))
            if otext != "-" or ptext != "-":
                lines.append("| %s, archive of %s entries, with the catalog (s) | %d | %s | entry by entry %s | %s |" % (
                    label, os.environ.get("ARCHIVE_ENTRIES", "?"), rtt, otext, ptext, ratio(o, p)))
    for rtt in rtts:
        o, otext = cell((backend, rtt, "ssh", "stream"))
        if otext != "-":
            lines.append("| ssh alone: the restore's bytes, obkeep's sessions (s) | %d | %s | - | - |" % (rtt, otext))
    if 0 in rtts and len(rtts) > 1:
        far = max(rtts)
        s0, _ = cell((backend, 0, "ssh", "stream")); s1, _ = cell((backend, far, "ssh", "stream"))
        if s0 and s1:
            lines.append("| ssh alone RTT %d / RTT 0 | | %s | - | - |" % (far, ratio(s0, s1)))
        o0, _ = cell((backend, 0, "obkeep", "restore")); o1, _ = cell((backend, far, "obkeep", "restore"))
        p0, _ = cell((backend, 0, "restic", "restore")); p1, _ = cell((backend, far, "restic", "restore"))
        if o0 or o1 or p0 or p1:
            lines.append("| restore RTT %d / restore RTT 0 | | %s | %s | - |" % (
                far, ratio(o0, o1), "restic " + ratio(p0, p1) if p0 else "-"))
        if o0 and o1:
            checks.append(("%s: restore at RTT %d within 1.5x of the restore at RTT 0 (%.2f)" % (backend, far, o1 / o0),
                           o1 <= 1.5 * o0))
    peaks = {}
    for tool in ("obkeep", "restic", "rclone"):
        ok = [x["peak_rss_kib"] / 1024 for x in rows if x["backend"] == backend and x["tool"] == tool and x["status"] == "ok"]
        if ok: peaks[tool] = max(ok)
    if peaks:
        lines.append("| peak memory, any step (MB) | | %s | %s | %s |" % (
            "%.1f" % peaks["obkeep"] if "obkeep" in peaks else "-",
            "; ".join("%s %.1f" % (t, v) for t, v in peaks.items() if t != "obkeep") or "-",
            ratio(peaks.get("obkeep"), peaks.get("restic"))))
lines += [""] + ["- %s: %s" % ("PASS" if ok else "FAIL", text) for text, ok in checks]
text = "\n".join(lines) + "\n"
print(text)
open(out + ".md", "w").write(text)
json.dump({"scale": float(scale), "files": files, "bytes": size, "commit": commit, "proxy": proxy, "s3_store": s3_store,
           "steps": rows},
          open(out + ".json", "w"), indent=1)
PY
[ -n "$json_copy" ] && cp "$root/bench/out/remote-$stamp.json" "$json_copy"
exit 0
